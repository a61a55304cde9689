//! `gantry sbom`: an SBOM (CycloneDX or SPDX JSON) from the lockfiles
//! under a folder.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use gantry_sbom::cyclonedx::{self, DocumentInfo, SpecVersion};
use gantry_sbom::{DiscoverOptions, Inventory, Warning, spdx};

use gantry_workflow::{Diagnostic, SourceFile, Span};

use super::CliError;
use super::user_path;
use crate::Outcome;
use crate::render;

/// Output format of `sbom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SbomFormat {
    /// CycloneDX JSON (1.6, or 1.5 with `--spec-version 1.5`).
    #[default]
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
    /// gantry's inventory as JSON: components with locations, warnings.
    Json,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// A folder to search for lockfiles, or one lockfile [default: .].
    pub path: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: SbomFormat,

    /// CycloneDX specification version: 1.6 or 1.5.
    #[arg(long, value_name = "VERSION", default_value = "1.6")]
    pub spec_version: String,

    /// Write the SBOM to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also read lockfiles inside node_modules, target, .venv, vendor and
    /// similar folders.
    #[arg(long)]
    pub include_vendored: bool,

    /// Read lockfiles that .gitignore excludes too.
    #[arg(long)]
    pub no_ignore: bool,

    /// A container image in the local Docker or Podman store, read
    /// through skopeo or podman (never pulled) instead of PATH.
    #[arg(long, value_name = "NAME", conflicts_with = "path")]
    pub image: Option<String>,

    /// The platform to read from a multi-platform image
    /// (os/architecture[/variant]) [default: linux/amd64 or the only one].
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
}

/// `--platform` parsed.
pub(crate) fn platform(text: Option<&str>) -> Result<Option<gantry_image::Platform>, CliError> {
    text.map(|t| {
        gantry_image::Platform::parse(t).ok_or_else(|| {
            CliError::usage(
                format!("--platform {t} is not os/architecture[/variant]"),
                Some("for example --platform linux/arm64/v8".into()),
            )
        })
    })
    .transpose()
}

/// The image to read: `--image NAME` exported from the local engine into
/// a scratch layout (kept alive by the returned value), or PATH.
pub(crate) fn image_input(
    path: PathBuf,
    image: Option<&str>,
) -> Result<(PathBuf, Option<gantry_image::Exported>), CliError> {
    match image {
        None => Ok((path, None)),
        Some(name) => {
            let exported = gantry_image::export(name).map_err(|e| {
                let hint = matches!(e, gantry_image::ExportError::NoTool { .. }).then(|| {
                    "install skopeo or podman (apt-get install skopeo), or give the image as a \
                     folder or tarball: `docker save NAME -o image.tar`"
                        .to_string()
                });
                CliError::usage(e.to_string(), hint)
            })?;
            Ok((exported.path.clone(), Some(exported)))
        }
    }
}

/// A container image (a layout folder, an oci-archive or docker save
/// tarball) as an attestation subject: its name and its manifest digest.
pub(crate) fn image_subject(root: &Path, path: &Path) -> Result<(String, String), CliError> {
    let full = user_path(root, path);
    let identity = gantry_image::identify(&full, &gantry_image::Options::default()).map_err(|e| {
        CliError::usage(
            format!("{}: {e}", full.display()),
            Some("--image takes an OCI image layout folder, an oci-archive or a docker save tarball".into()),
        )
    })?;
    Ok((identity.name, identity.digest.hex().to_string()))
}

/// Prints an image's warnings: they name paths inside the image, never
/// files on this machine.
pub(crate) fn print_image_warnings(warnings: &[Warning]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// The project's name: the folder's name.
pub(crate) fn project_name(path: &Path) -> String {
    let dir = if path.is_file() {
        path.parent().unwrap_or(path)
    } else {
        path
    };
    std::path::absolute(dir)
        .ok()
        .and_then(|p| {
            p.components()
                .rfind(|c| matches!(c, std::path::Component::Normal(_)))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "project".into())
}

/// Prints lockfile warnings to stderr with their source line.
pub(crate) fn print_warnings(base: &Path, warnings: &[Warning]) {
    let colored = render::color(std::io::stderr().is_terminal());
    for w in warnings {
        eprint!(
            "{}",
            located_warning(base, &w.file, w.line, &w.message, colored)
        );
    }
}

/// A warning about a line of a file, rendered with that line like a
/// compiler's; `file` is relative to `base`.
pub(crate) fn located_warning(
    base: &Path,
    file: &str,
    line: Option<usize>,
    message: &str,
    colored: bool,
) -> String {
    let text = gantry_fs::read_text_bounded(&base.join(file), gantry_sbom::MAX_FILE_BYTES)
        .unwrap_or_default();
    let source = SourceFile::new(file, text);
    let span = line.filter(|l| *l >= 1).and_then(|l| {
        let start = source
            .text()
            .split_inclusive('\n')
            .take(l - 1)
            .map(str::len)
            .sum::<usize>();
        let len = source.line_text(l).len();
        (start <= source.text().len()).then(|| Span::new(start, start + len))
    });
    // Without a span the renderer names the file itself.
    let located = match (line, span) {
        (Some(l), _) => format!("{file}:{l}: {message}"),
        (None, Some(_)) => format!("{file}: {message}"),
        (None, None) => message.to_string(),
    };
    let d = Diagnostic::warning("lockfile", span, located).with_label("here");
    render::diagnostic_human(&source, &d, colored)
}

/// Reads the inventory of a folder or lockfile.
pub(crate) fn read_inventory(
    path: &Path,
    options: &DiscoverOptions,
) -> Result<Inventory, CliError> {
    gantry_sbom::inventory(path, options).map_err(inventory_error)
}

/// An inventory failure as the command line shows it.
pub(crate) fn inventory_error(e: gantry_sbom::Error) -> CliError {
    match e {
        gantry_sbom::Error::UnknownFormat { .. } => CliError::usage(
            e.to_string(),
            Some(
                "give a folder, or a lockfile: Cargo.lock, package-lock.json, yarn.lock, \
                 pnpm-lock.yaml, requirements*.txt, poetry.lock, Pipfile.lock, uv.lock, go.mod, \
                 Gemfile.lock, composer.lock, packages.lock.json, gradle.lockfile, pom.xml"
                    .into(),
            ),
        ),
        other => CliError::usage(other.to_string(), None),
    }
}

pub fn run(root: &Path, args: SbomArgs) -> Result<Outcome, CliError> {
    let path = args
        .path
        .as_deref()
        .map_or_else(|| root.to_path_buf(), |p| user_path(root, p));
    let (path, exported) = image_input(path, args.image.as_deref())?;
    if exported.is_some() || gantry_image::detect(&path).is_some() {
        return run_image(root, &path, args.image.as_deref(), &args);
    }
    let spec = SpecVersion::parse(&args.spec_version).ok_or_else(|| {
        CliError::usage(
            format!("--spec-version {} is not supported", args.spec_version),
            Some("use 1.6 (the default) or 1.5".into()),
        )
    })?;
    let options = DiscoverOptions {
        include_vendored: args.include_vendored,
        no_ignore: args.no_ignore,
    };
    let inventory = read_inventory(&path, &options)?;
    let base = if path.is_file() {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        path.clone()
    };
    print_warnings(&base, &inventory.warnings);
    let info = DocumentInfo {
        name: project_name(&path),
        timestamp: gantry_sbom::time::now_or_source_date_epoch(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let doc = match args.format {
        SbomFormat::Cyclonedx => cyclonedx::write(&inventory, &info, spec),
        SbomFormat::Spdx => spdx::write(&inventory, &info),
        SbomFormat::Json => {
            serde_json::to_value(inventory.document()).map_err(std::io::Error::from)?
        }
    };
    let mut text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::from)?;
    text.push('\n');
    match &args.output {
        Some(file) => {
            let file = user_path(root, file);
            std::fs::write(&file, text).map_err(|source| {
                CliError::usage(
                    format!("failed to write {}: {source}", file.display()),
                    None,
                )
            })?;
            let unique = inventory.unique_components().len();
            eprintln!(
                "wrote {} with {unique} components from {} lockfiles",
                file.display(),
                inventory.files.len()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    if inventory.files.is_empty() {
        eprintln!("warning: no lockfiles found under {}", path.display());
    }
    Ok(Outcome::Success)
}

/// `gantry sbom IMAGE`: the image's OS and language packages.
fn run_image(
    root: &Path,
    path: &Path,
    name: Option<&str>,
    args: &SbomArgs,
) -> Result<Outcome, CliError> {
    let spec = SpecVersion::parse(&args.spec_version).ok_or_else(|| {
        CliError::usage(
            format!("--spec-version {} is not supported", args.spec_version),
            Some("use 1.6 (the default) or 1.5".into()),
        )
    })?;
    let options = gantry_image::Options {
        platform: platform(args.platform.as_deref())?,
        ..gantry_image::Options::default()
    };
    let mut inv = gantry_image::inventory(path, &options)
        .map_err(|e| CliError::usage(e.to_string(), None))?;
    if let Some(n) = name {
        inv.image.name = n.to_string();
    }
    print_image_warnings(&inv.inventory.warnings);
    let info = DocumentInfo {
        name: inv.image.name.clone(),
        timestamp: gantry_sbom::time::now_or_source_date_epoch(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let doc = match args.format {
        SbomFormat::Cyclonedx => gantry_image::sbom::cyclonedx(&inv, &info, spec),
        SbomFormat::Spdx => gantry_image::sbom::spdx(&inv, &info),
        SbomFormat::Json => serde_json::to_value(inv.document()).map_err(std::io::Error::from)?,
    };
    let mut text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::from)?;
    text.push('\n');
    match &args.output {
        Some(file) => {
            let file = user_path(root, file);
            std::fs::write(&file, text).map_err(|source| {
                CliError::usage(
                    format!("failed to write {}: {source}", file.display()),
                    None,
                )
            })?;
            eprintln!(
                "wrote {} with {} components from image {} ({}, {} layers)",
                file.display(),
                inv.inventory.unique_components().len(),
                inv.image.name,
                inv.image.digest,
                inv.image.layers.len()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Outcome::Success)
}
