//! A [`TrafficProvider`] that drives a real HAProxy through its runtime API
//! (the stats socket: a unix socket or a TCP address).
//!
//! The split is set with `set server BACKEND/SERVER weight N` on the two
//! servers of one backend: canary weight `p`, stable weight `100 - p`, so
//! that a weighted balancing algorithm (`roundrobin`, `static-rr`) sends
//! exactly `p` of every hundred new requests to the canary. A weight of 0
//! takes a server out of the rotation without marking it down.
//!
//! Counters come from `show stat` (CSV; columns are found by their header
//! names, never by position): `hrsp_1xx` … `hrsp_5xx` are the responses a
//! server sent, `econ` the connections to it that failed and `eresp` the
//! responses that broke off; both failure counts are what the client saw as
//! an HAProxy-made 5xx.
//!
//! Latency: HAProxy keeps no latency distribution per server. `show stat`
//! has `qtime`, `ctime`, `rtime` and `ttime`, each an average in
//! milliseconds over the last 1024 requests, which is no basis for a p99.
//! The snapshots' latency histograms are therefore left empty (a controller
//! sees no quantile and must not judge latency from this provider); the
//! averages are offered as [`ServerStats`] through
//! [`HaproxyProvider::server_stats`]. A real p99 comes from the service's
//! own metrics (for example a Prometheus query such as
//! `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{version="canary"}[1m])))`)
//! or from HAProxy's per-request logs (`%Tr`, `%Ta` in the log format),
//! which a log pipeline can turn into a histogram.
//!
//! One command per connection: the socket is opened, the command written,
//! and the reply read until HAProxy closes it, within a timeout.

use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::provider::{TrafficError, TrafficProvider};
use crate::stats::{HistogramSnapshot, SideSnapshot, TrafficSnapshot};

/// How long one runtime-API command may take (connect, write, read).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest reply read from the runtime API; `show stat` of a large
/// configuration is a few hundred kilobytes.
const MAX_REPLY_BYTES: usize = 16 << 20;

const WHAT: &str = "haproxy runtime API";

/// Where the runtime API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeApi {
    /// A `stats socket /path` unix socket.
    Unix(PathBuf),
    /// A `stats socket ipv4@host:port` TCP address.
    Tcp(String),
}

impl RuntimeApi {
    /// A path (anything with a `/`, or that is not `host:port`) is a unix
    /// socket; `host:port` with a numeric port is TCP.
    pub fn parse(text: &str) -> Result<RuntimeApi, TrafficError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("runtime API address", text, "it is empty"));
        }
        if text.contains('/') {
            return Ok(RuntimeApi::Unix(PathBuf::from(text)));
        }
        match text.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(RuntimeApi::Tcp(text.to_string()))
            }
            Some(_) => Err(invalid(
                "runtime API address",
                text,
                "expected a unix socket path or host:port with a port from 0 to 65535",
            )),
            None => Ok(RuntimeApi::Unix(PathBuf::from(text))),
        }
    }

    fn address(&self) -> String {
        match self {
            RuntimeApi::Unix(path) => path.display().to_string(),
            RuntimeApi::Tcp(address) => address.clone(),
        }
    }
}

fn invalid(what: &'static str, value: &str, reason: &str) -> TrafficError {
    TrafficError::Invalid {
        what,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// A proxy or server name as HAProxy accepts it on the runtime API: no
/// whitespace, no `/` and no `;` (which would start another command).
fn check_name(what: &'static str, name: &str) -> Result<(), TrafficError> {
    if name.is_empty() {
        return Err(invalid(what, name, "it is empty"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | ';' | '#'))
    {
        return Err(invalid(
            what,
            name,
            &format!("it contains {c:?}, which the runtime API cannot take in a name"),
        ));
    }
    Ok(())
}

/// Sends one command and returns the whole reply.
async fn exchange(
    api: &RuntimeApi,
    command: &str,
    timeout: Duration,
) -> Result<String, TrafficError> {
    let address = api.address();
    let work = async {
        match api {
            RuntimeApi::Unix(path) => {
                let stream = tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|source| connect_error(&address, source))?;
                talk(stream, command, &address).await
            }
            RuntimeApi::Tcp(host_port) => {
                let stream = tokio::net::TcpStream::connect(host_port.as_str())
                    .await
                    .map_err(|source| connect_error(&address, source))?;
                talk(stream, command, &address).await
            }
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(TrafficError::Timeout {
            what: WHAT,
            address,
            command: command.to_string(),
            after: timeout,
        }),
    }
}

fn connect_error(address: &str, source: std::io::Error) -> TrafficError {
    TrafficError::Connect {
        what: WHAT,
        address: address.to_string(),
        source,
    }
}

async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    command: &str,
    address: &str,
) -> Result<String, TrafficError> {
    let io_error = |source| TrafficError::Io {
        what: WHAT,
        address: address.to_string(),
        command: command.to_string(),
        source,
    };
    stream
        .write_all(format!("{command}\n").as_bytes())
        .await
        .map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut reply = Vec::new();
    let mut limited = (&mut stream).take(MAX_REPLY_BYTES as u64 + 1);
    limited.read_to_end(&mut reply).await.map_err(io_error)?;
    if reply.len() > MAX_REPLY_BYTES {
        return Err(TrafficError::Reply {
            what: WHAT,
            command: command.to_string(),
            reason: format!("the reply is larger than {MAX_REPLY_BYTES} bytes"),
        });
    }
    String::from_utf8(reply).map_err(|e| TrafficError::Reply {
        what: WHAT,
        command: command.to_string(),
        reason: format!(
            "the reply is not UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// One server's row of `show stat`, as far as a rollout needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// The backend (`pxname`).
    pub backend: String,
    /// The server (`svname`).
    pub server: String,
    /// `status`: `UP`, `DOWN`, `MAINT`, `no check`, …
    pub status: String,
    /// `weight`: the effective weight.
    pub weight: u64,
    /// `stot`: sessions sent to this server.
    pub sessions: u64,
    /// `hrsp_1xx` … `hrsp_5xx`: responses by status class.
    pub status_classes: [u64; 5],
    /// `hrsp_other`: responses with a status outside 100..=599.
    pub other_responses: u64,
    /// `econ`: connections to the server that failed.
    pub connection_errors: u64,
    /// `eresp`: responses that broke off (also server aborts).
    pub response_errors: u64,
    /// `qtime`, `ctime`, `rtime`, `ttime`: averages over the last 1024
    /// requests (queue, connect, response, total), when HAProxy reports
    /// them; they are no quantiles.
    pub avg_queue: Option<Duration>,
    pub avg_connect: Option<Duration>,
    pub avg_response: Option<Duration>,
    pub avg_total: Option<Duration>,
}

impl ServerStats {
    /// The counters as one side of a [`TrafficSnapshot`]: responses by
    /// class (a status outside 100..=599 and every failed connection or
    /// broken response count as upstream failures), with an empty latency
    /// histogram (see the module documentation).
    pub fn side(&self) -> SideSnapshot {
        SideSnapshot {
            status_classes: self.status_classes,
            upstream_failures: self.other_responses + self.connection_errors + self.response_errors,
            latency: HistogramSnapshot::default(),
        }
    }
}

/// Parses the CSV of `show stat` (a first line `# pxname,svname,…`, then
/// one row per proxy and server) into the rows of servers, finding every
/// column by its header name.
pub fn parse_show_stat(text: &str) -> Result<Vec<ServerStats>, TrafficError> {
    let reply = |reason: String| TrafficError::Reply {
        what: WHAT,
        command: "show stat".to_string(),
        reason,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| reply("the reply is empty".to_string()))?;
    let Some(header) = header.strip_prefix("# ") else {
        return Err(reply(format!(
            "expected a CSV header starting with `# pxname`, got `{}`",
            truncate(header)
        )));
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |name: &str| names.iter().position(|n| *n == name);
    let required = |name: &'static str| {
        column(name).ok_or_else(|| reply(format!("the header has no `{name}` column")))
    };
    let pxname = required("pxname")?;
    let svname = required("svname")?;
    let stot = required("stot")?;
    let econ = required("econ")?;
    let eresp = required("eresp")?;
    let classes = [
        required("hrsp_1xx")?,
        required("hrsp_2xx")?,
        required("hrsp_3xx")?,
        required("hrsp_4xx")?,
        required("hrsp_5xx")?,
    ];
    let other = column("hrsp_other");
    let status = column("status");
    let weight = column("weight");
    let kind = column("type");
    let times = [
        column("qtime"),
        column("ctime"),
        column("rtime"),
        column("ttime"),
    ];

    let mut servers = Vec::new();
    for (index, line) in lines {
        let line_no = index + 1;
        let fields: Vec<&str> = line.split(',').collect();
        let field = |i: usize| fields.get(i).map(|f| f.trim()).unwrap_or("");
        let name = field(svname);
        // `type` is 2 for a server; without the column, tell servers from
        // the FRONTEND and BACKEND rows by name.
        let is_server = match kind {
            Some(k) => field(k) == "2",
            None => name != "FRONTEND" && name != "BACKEND",
        };
        if !is_server {
            continue;
        }
        let count = |i: usize, what: &str| -> Result<u64, TrafficError> {
            let value = field(i);
            if value.is_empty() {
                return Ok(0);
            }
            value.parse::<u64>().map_err(|_| {
                reply(format!(
                    "line {line_no}: `{what}` of {}/{name} is `{}`, not a count",
                    field(pxname),
                    truncate(value)
                ))
            })
        };
        let millis = |i: Option<usize>, what: &str| -> Result<Option<Duration>, TrafficError> {
            match i {
                Some(i) if !field(i).is_empty() => Ok(Some(Duration::from_millis(count(i, what)?))),
                _ => Ok(None),
            }
        };
        let mut status_classes = [0; 5];
        for (slot, (column, name)) in status_classes.iter_mut().zip(
            classes
                .iter()
                .zip(["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx"]),
        ) {
            *slot = count(*column, name)?;
        }
        servers.push(ServerStats {
            backend: field(pxname).to_string(),
            server: name.to_string(),
            status: status.map(|i| field(i).to_string()).unwrap_or_default(),
            weight: match weight {
                Some(i) => count(i, "weight")?,
                None => 0,
            },
            sessions: count(stot, "stot")?,
            status_classes,
            other_responses: match other {
                Some(i) => count(i, "hrsp_other")?,
                None => 0,
            },
            connection_errors: count(econ, "econ")?,
            response_errors: count(eresp, "eresp")?,
            avg_queue: millis(times[0], "qtime")?,
            avg_connect: millis(times[1], "ctime")?,
            avg_response: millis(times[2], "rtime")?,
            avg_total: millis(times[3], "ttime")?,
        });
    }
    Ok(servers)
}

fn truncate(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The weights that send `percent` of requests to the canary:
/// `(stable, canary)`, summing to 100.
pub fn weights_for(percent: u32) -> Result<(u32, u32), TrafficError> {
    if percent > 100 {
        return Err(TrafficError::Weight(percent));
    }
    Ok((100 - percent, percent))
}

/// HAProxy as a traffic provider: one backend with a stable and a canary
/// server.
#[derive(Debug, Clone)]
pub struct HaproxyProvider {
    api: RuntimeApi,
    backend: String,
    stable: String,
    canary: String,
    timeout: Duration,
}

impl HaproxyProvider {
    /// `runtime_api` is the stats socket: a unix socket path or
    /// `host:port`. Nothing is contacted until the first command.
    pub fn new(
        runtime_api: &str,
        backend: &str,
        stable_server: &str,
        canary_server: &str,
    ) -> Result<HaproxyProvider, TrafficError> {
        let api = RuntimeApi::parse(runtime_api)?;
        if let RuntimeApi::Tcp(address) = &api
            && address.to_socket_addrs().is_err()
        {
            return Err(invalid(
                "runtime API address",
                address,
                "the host does not resolve",
            ));
        }
        check_name("backend name", backend)?;
        check_name("stable server name", stable_server)?;
        check_name("canary server name", canary_server)?;
        if stable_server == canary_server {
            return Err(invalid(
                "canary server name",
                canary_server,
                "it is the stable server too",
            ));
        }
        Ok(HaproxyProvider {
            api,
            backend: backend.to_string(),
            stable: stable_server.to_string(),
            canary: canary_server.to_string(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// How long one command may take (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> HaproxyProvider {
        self.timeout = timeout;
        self
    }

    pub fn runtime_api(&self) -> &RuntimeApi {
        &self.api
    }

    /// Runs one runtime-API command and returns its reply as it came.
    pub async fn command(&self, command: &str) -> Result<String, TrafficError> {
        exchange(&self.api, command, self.timeout).await
    }

    /// Sets one server's weight; HAProxy answers an accepted `set server`
    /// with an empty reply and anything else is its refusal.
    async fn set_weight(&self, server: &str, weight: u32) -> Result<(), TrafficError> {
        let command = format!("set server {}/{server} weight {weight}", self.backend);
        let reply = self.command(&command).await?;
        let reply = reply.trim();
        if reply.is_empty() {
            Ok(())
        } else {
            Err(TrafficError::Refused {
                what: WHAT,
                command,
                reply: reply.to_string(),
            })
        }
    }

    /// The stable and canary rows of `show stat`.
    pub async fn server_stats(&self) -> Result<(ServerStats, ServerStats), TrafficError> {
        let reply = self.command("show stat").await?;
        let servers = parse_show_stat(&reply)?;
        let find = |name: &str| {
            servers
                .iter()
                .find(|s| s.backend == self.backend && s.server == name)
                .cloned()
                .ok_or_else(|| TrafficError::Reply {
                    what: WHAT,
                    command: "show stat".to_string(),
                    reason: format!("there is no server {}/{name}", self.backend),
                })
        };
        Ok((find(&self.stable)?, find(&self.canary)?))
    }
}

impl TrafficProvider for HaproxyProvider {
    fn kind(&self) -> &'static str {
        "haproxy"
    }

    /// Raises the side that gains first, so that the backend never has
    /// both servers at weight 0 between the two commands.
    async fn set_canary_weight(&self, percent: u32) -> Result<(), TrafficError> {
        let (stable, canary) = weights_for(percent)?;
        let (_, current) = self.server_stats().await?;
        if u64::from(canary) >= current.weight {
            self.set_weight(&self.canary, canary).await?;
            self.set_weight(&self.stable, stable).await
        } else {
            self.set_weight(&self.stable, stable).await?;
            self.set_weight(&self.canary, canary).await
        }
    }

    async fn snapshot(&self) -> Result<TrafficSnapshot, TrafficError> {
        let (stable, canary) = self.server_stats().await?;
        Ok(TrafficSnapshot {
            stable: stable.side(),
            canary: canary.side(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "# pxname,svname,qcur,stot,econ,eresp,status,weight,type,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,rtime,ttime\n\
        web,FRONTEND,,10,,,OPEN,,0,0,10,0,0,0,0,,\n\
        app,stable,0,7,1,2,UP,90,2,0,6,0,1,0,0,3,4\n\
        app,canary,0,3,0,0,UP,10,2,0,2,0,0,1,0,12,13\n\
        app,BACKEND,0,10,1,2,UP,100,1,0,8,0,1,1,0,5,6\n";

    #[test]
    fn show_stat_is_read_by_column_name() {
        let servers = parse_show_stat(STAT).map_err(|e| e.to_string());
        let servers = servers.as_deref().unwrap_or_default();
        assert_eq!(servers.len(), 2);
        let stable = &servers[0];
        assert_eq!(
            (stable.backend.as_str(), stable.server.as_str()),
            ("app", "stable")
        );
        assert_eq!(stable.status_classes, [0, 6, 0, 1, 0]);
        assert_eq!(stable.weight, 90);
        assert_eq!(stable.avg_response, Some(Duration::from_millis(3)));
        let side = stable.side();
        assert_eq!(side.upstream_failures, 3);
        assert_eq!(side.requests(), 10);
        assert_eq!(servers[1].status_classes[4], 1);
    }

    #[test]
    fn columns_in_another_order_read_the_same() {
        let reordered = "# svname,pxname,hrsp_5xx,hrsp_4xx,hrsp_3xx,hrsp_2xx,hrsp_1xx,eresp,econ,stot\n\
            canary,app,1,0,0,2,0,0,0,3\n";
        let servers = parse_show_stat(reordered).unwrap_or_default();
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].status_classes, [0, 2, 0, 0, 1]);
        assert_eq!(servers[0].server, "canary");
    }

    #[test]
    fn a_bad_reply_says_what_is_wrong() {
        let message = |text: &str| parse_show_stat(text).err().map(|e| e.to_string());
        assert!(message("").is_some_and(|m| m.contains("empty")));
        assert!(message("Unknown command.\n").is_some_and(|m| m.contains("CSV header")));
        assert!(message("# pxname,svname,stot\n").is_some_and(|m| m.contains("no `econ` column")));
        let bad = STAT.replace("app,canary,0,3,", "app,canary,0,three,");
        assert!(message(&bad).is_some_and(|m| m.contains("line 4") && m.contains("app/canary")));
    }

    #[test]
    fn weights_split_a_hundred() {
        assert_eq!(weights_for(0).ok(), Some((100, 0)));
        assert_eq!(weights_for(10).ok(), Some((90, 10)));
        assert_eq!(weights_for(100).ok(), Some((0, 100)));
        assert!(matches!(weights_for(101), Err(TrafficError::Weight(101))));
    }

    #[test]
    fn names_that_would_inject_commands_are_refused() {
        assert!(HaproxyProvider::new("/run/haproxy.sock", "app;shutdown", "a", "b").is_err());
        assert!(HaproxyProvider::new("/run/haproxy.sock", "app", "a b", "c").is_err());
        assert!(HaproxyProvider::new("/run/haproxy.sock", "app", "a", "a").is_err());
        assert!(HaproxyProvider::new("", "app", "a", "b").is_err());
        assert!(HaproxyProvider::new("localhost:99999", "app", "a", "b").is_err());
        assert!(HaproxyProvider::new("127.0.0.1:9999", "app", "a", "b").is_ok());
        assert_eq!(
            RuntimeApi::parse("haproxy.sock").ok(),
            Some(RuntimeApi::Unix("haproxy.sock".into()))
        );
    }
}
