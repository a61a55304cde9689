//! The component model shared by every lockfile format and output.

use serde::Serialize;

/// A package ecosystem: where a name and version are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    Cargo,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
    #[serde(rename = "NuGet")]
    NuGet,
    #[serde(rename = "Maven")]
    Maven,
    /// Debian packages (Debian, Ubuntu and their derivatives): the
    /// component's [`OsPackage`] names the distribution.
    #[serde(rename = "deb")]
    Deb,
    /// Alpine packages.
    #[serde(rename = "apk")]
    Apk,
    /// RPM packages (Red Hat, Rocky, AlmaLinux, Fedora, SUSE).
    #[serde(rename = "rpm")]
    Rpm,
}

impl Ecosystem {
    /// Every ecosystem, in a stable order.
    pub const ALL: [Ecosystem; 11] = [
        Ecosystem::Cargo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::NuGet,
        Ecosystem::Maven,
        Ecosystem::Deb,
        Ecosystem::Apk,
        Ecosystem::Rpm,
    ];

    /// The ecosystem's name in OSV records (`affected[].package.ecosystem`).
    /// The OS package formats have no one OSV name (it is the distribution
    /// and its release, `Debian:12`, see [`Component::osv_ecosystem`]):
    /// for them this is the purl type.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Maven => "Maven",
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
        }
    }

    /// Whether the packages come from an operating system's package
    /// manager (dpkg, apk, rpm).
    pub fn is_os(self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm)
    }

    /// The ecosystem of an OSV ecosystem name; a suffix such as
    /// `Debian:11` or `PyPI:legacy` is not one of ours.
    pub fn from_osv(name: &str) -> Option<Ecosystem> {
        Ecosystem::ALL.into_iter().find(|e| e.osv_name() == name)
    }

    /// The purl type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Maven => "maven",
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
        }
    }

    /// The ecosystem of a purl type.
    pub fn from_purl_type(t: &str) -> Option<Ecosystem> {
        Ecosystem::ALL
            .into_iter()
            .find(|e| e.purl_type().eq_ignore_ascii_case(t))
    }

    /// A package name as the ecosystem writes it canonically: PEP 503 for
    /// PyPI, lower case for Packagist (Composer names are lower case), and
    /// unchanged elsewhere. Components carry this name.
    pub fn canonical_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => pep503(name),
            Ecosystem::Packagist => name.trim().to_ascii_lowercase(),
            _ => name.trim().to_string(),
        }
    }

    /// A package name as the ecosystem compares names: the canonical name,
    /// lower-cased where the registry also ignores case (NuGet).
    /// Advisories and components meet on this key.
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::NuGet => name.trim().to_ascii_lowercase(),
            _ => self.canonical_name(name),
        }
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// PEP 503: lower case, runs of `-`, `_` and `.` become one `-`.
pub(crate) fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        }
    }
    out
}

/// How a package is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Needed when the software runs.
    Runtime,
    /// Optional at run time (npm `optional`, Python extras).
    Optional,
    /// Only for development, tests or builds.
    Dev,
}

impl Scope {
    /// The wider of two scopes: runtime beats optional beats dev.
    pub fn widest(self, other: Scope) -> Scope {
        self.min(other)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Runtime => "runtime",
            Scope::Optional => "optional",
            Scope::Dev => "dev",
        }
    }
}

/// A digest algorithm of an integrity hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum HashAlgorithm {
    #[serde(rename = "SHA-1")]
    Sha1,
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
    #[serde(rename = "MD5")]
    Md5,
}

impl HashAlgorithm {
    /// The algorithm of a name as lockfiles write it (`sha512`, `SHA256`).
    pub fn from_name(name: &str) -> Option<HashAlgorithm> {
        match name.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Some(HashAlgorithm::Sha1),
            "sha256" => Some(HashAlgorithm::Sha256),
            "sha384" => Some(HashAlgorithm::Sha384),
            "sha512" => Some(HashAlgorithm::Sha512),
            "md5" => Some(HashAlgorithm::Md5),
            _ => None,
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Md5 => 16,
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// CycloneDX's name (`SHA-256`).
    pub fn cyclonedx_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA-1",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
            HashAlgorithm::Md5 => "MD5",
        }
    }

    /// SPDX's name (`SHA256`).
    pub fn spdx_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
            HashAlgorithm::Sha384 => "SHA384",
            HashAlgorithm::Sha512 => "SHA512",
            HashAlgorithm::Md5 => "MD5",
        }
    }
}

/// An integrity hash: algorithm and lower-case hex digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Hash {
    pub algorithm: HashAlgorithm,
    pub hex: String,
}

impl Hash {
    /// A hash from hex text; `None` unless the length fits the algorithm.
    pub fn from_hex(algorithm: HashAlgorithm, hex: &str) -> Option<Hash> {
        let hex = hex.trim().to_ascii_lowercase();
        (hex.len() == algorithm.digest_len() * 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(Hash { algorithm, hex })
    }

    /// A hash from base64 text (npm's `sha512-...`, NuGet's contentHash).
    pub fn from_base64(algorithm: HashAlgorithm, b64: &str) -> Option<Hash> {
        let bytes = crate::text::base64_decode(b64.trim())?;
        (bytes.len() == algorithm.digest_len()).then(|| Hash {
            algorithm,
            hex: crate::text::hex_encode(&bytes),
        })
    }

    /// An `algorithm-base64` Subresource Integrity string (npm, pnpm,
    /// yarn): the strongest recognised entry.
    pub fn from_sri(sri: &str) -> Option<Hash> {
        sri.split_whitespace()
            .filter_map(|part| {
                let (alg, b64) = part.split_once('-')?;
                Hash::from_base64(HashAlgorithm::from_name(alg)?, b64)
            })
            .max_by_key(|h| h.algorithm.digest_len())
    }

    /// An `algorithm:hex` string (pip `--hash`, uv, poetry).
    pub fn from_prefixed_hex(text: &str) -> Option<Hash> {
        let (alg, hex) = text.trim().split_once(':')?;
        Hash::from_hex(HashAlgorithm::from_name(alg)?, hex)
    }
}

/// Where a component was declared: a file (relative to the scanned root,
/// `/`-separated) and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One package a lockfile records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub ecosystem: Ecosystem,
    /// The name, normalised as the ecosystem does (PEP 503 for PyPI,
    /// `group:artifact` for Maven, `vendor/name` for Packagist).
    pub name: String,
    /// The pinned version; `None` when the file gives only a range, a URL,
    /// a path or an editable install (see `requirement`).
    pub version: Option<String>,
    /// What the file says when it pins no version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    pub purl: String,
    pub scope: Scope,
    /// Declared by the project itself rather than pulled in by another
    /// package.
    pub direct: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    pub location: Location,
    /// purls of the packages this one depends on, where the file records
    /// them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Format-specific facts worth keeping (`markers`, `extras`,
    /// `platform`, `source`), as `(key, value)` pairs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<(String, String)>,
    /// For an operating system package: its distribution, release and
    /// source package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsPackage>,
}

/// What an operating system package adds to a component: the
/// distribution it was installed from (`ID` and `VERSION_ID` of
/// `os-release`) and its source package, which is what Debian, Ubuntu
/// and Alpine advisories name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OsPackage {
    /// `os-release` `ID`: `debian`, `ubuntu`, `alpine`, `rocky`, ...
    pub distro: String,
    /// `os-release` `VERSION_ID`: `12`, `22.04`, `3.19.1`, `9.3`.
    pub release: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package's name when it differs or is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The source package's version when it differs from the binary's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

impl OsPackage {
    /// The OSV ecosystem of the distribution's advisories: `Debian:12`,
    /// `Ubuntu:22.04`, `Alpine:v3.19`, `Rocky Linux:9`, `AlmaLinux:9`,
    /// `Red Hat:enterprise_linux:9`. Records whose ecosystem continues
    /// this one after a `:` (`Ubuntu:22.04:LTS`) apply too. `None` for a
    /// distribution OSV has no advisories for under a known name.
    pub fn osv_ecosystem(&self) -> Option<String> {
        let release = self.release.trim();
        let major = release.split('.').next().unwrap_or("");
        let major_minor = release.split('.').take(2).collect::<Vec<_>>().join(".");
        if release.is_empty() {
            return None;
        }
        Some(match self.distro.as_str() {
            "debian" => format!("Debian:{major}"),
            "ubuntu" => format!("Ubuntu:{major_minor}"),
            "alpine" => format!("Alpine:v{major_minor}"),
            "rocky" => format!("Rocky Linux:{major}"),
            "almalinux" => format!("AlmaLinux:{major}"),
            "rhel" => format!("Red Hat:enterprise_linux:{major}"),
            "opensuse-leap" => format!("openSUSE:Leap {major_minor}"),
            "mageia" => format!("Mageia:{major}"),
            _ => return None,
        })
    }

    /// The `distro` qualifier of the package's purl: `debian-12`.
    pub fn purl_distro(&self) -> String {
        format!("{}-{}", self.distro, self.release)
    }
}

impl Component {
    /// A pinned component with its purl built from name and version.
    pub fn new(
        ecosystem: Ecosystem,
        name: &str,
        version: Option<&str>,
        location: Location,
    ) -> Component {
        let name = ecosystem.canonical_name(name);
        let purl = crate::purl::Purl::for_package(ecosystem, &name, version).to_string();
        Component {
            ecosystem,
            name,
            version: version.map(str::to_string),
            requirement: None,
            purl,
            scope: Scope::Runtime,
            direct: false,
            hashes: Vec::new(),
            location,
            dependencies: Vec::new(),
            properties: Vec::new(),
            os: None,
        }
    }

    /// The OSV ecosystem this component's advisories are filed under:
    /// the ecosystem's name, or for an OS package its distribution and
    /// release (`Debian:12`); `None` when no OSV ecosystem is known.
    pub fn osv_ecosystem(&self) -> Option<String> {
        match &self.os {
            Some(os) => os.osv_ecosystem(),
            None if self.ecosystem.is_os() => None,
            None => Some(self.ecosystem.osv_name().to_string()),
        }
    }

    /// The name advisories use: the source package for Debian, Ubuntu
    /// and Alpine (their OSV records name source packages), the
    /// component's name otherwise.
    pub fn advisory_name(&self) -> &str {
        match (&self.os, self.ecosystem) {
            (Some(os), Ecosystem::Deb | Ecosystem::Apk) => {
                os.source.as_deref().unwrap_or(&self.name)
            }
            _ => &self.name,
        }
    }

    /// The version advisories compare: the source package's version for a
    /// Debian package built from a differently versioned source, the
    /// component's version otherwise.
    pub fn advisory_version(&self) -> Option<&str> {
        match (&self.os, self.ecosystem) {
            (Some(os), Ecosystem::Deb) => os.source_version.as_deref().or(self.version.as_deref()),
            _ => self.version.as_deref(),
        }
    }

    /// An unpinned component: `requirement` is what the file says instead.
    pub fn unpinned(
        ecosystem: Ecosystem,
        name: &str,
        requirement: &str,
        location: Location,
    ) -> Component {
        let mut c = Component::new(ecosystem, name, None, location);
        c.requirement = Some(requirement.to_string());
        c
    }

    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    pub fn with_direct(mut self, direct: bool) -> Self {
        self.direct = direct;
        self
    }

    pub fn with_property(mut self, key: &str, value: impl Into<String>) -> Self {
        self.properties.push((key.to_string(), value.into()));
        self
    }

    /// Adds a hash unless it is already there.
    pub fn add_hash(&mut self, hash: Hash) {
        if !self.hashes.contains(&hash) {
            self.hashes.push(hash);
        }
    }
}

/// An entry that could not be read, or a file-level problem: never silent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub file: String,
    /// 1-based; `None` for a problem of the whole file.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}
