/*!
Reads Kubernetes objects from YAML and JSON, keeping the line of every field.

# Brief overview

[`load`] takes the paths a user named (files, directories, `-` for stdin) and returns every
object found, with input errors and notices for what could not be used. Directories are walked
recursively; a directory with a `kustomization.yaml` is rendered with `kubectl kustomize`;
a Helm chart is reported with the command to render it. Files are parsed in parallel.

YAML is read as Kubernetes reads it (YAML 1.1: `yes` is `true`, `0644` is octal), multi-document
streams and `List` kinds are expanded, and hostile input (alias bombs, deep nesting, binary or
huge files) is rejected with a message and a line instead of a crash.

```
let loaded = palisade_loader::load_text("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  hostNetwork: yes\n");
assert_eq!(loaded.objects.len(), 1);
let pod = &loaded.objects[0];
assert_eq!(pod.at("/spec/hostNetwork"), Some(&serde_json::json!(true)));
assert_eq!(pod.line_of("/spec/hostNetwork"), 6);
```
*/

mod elide;
mod error;
mod kustomize;
mod objects;
mod resolve;
mod sources;
mod yaml;

pub use elide::crd_schemas_blanked;
pub use error::LoadError;
pub use sources::{Input, expand, expand_files, is_kustomization_dir};
pub use yaml::{Document, FieldLines, Limits, Parsed, parse, parse_without_crd_schemas};

use palisade_model::{InputError, Object};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to read inputs.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Parser safety limits.
    pub limits: Limits,
    /// Largest file read, in bytes.
    pub max_file_size: u64,
    /// Keep the validation schemas of CustomResourceDefinitions (dropped by default: no
    /// control reads them, and they are most of the memory of operator bundles).
    pub keep_crd_schemas: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            max_file_size: 64 * 1024 * 1024,
            keep_crd_schemas: false,
        }
    }
}

/// What was read.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Objects, in input order.
    pub objects: Vec<Object>,
    /// Inputs that could not be read (each makes the scan exit 2).
    pub errors: Vec<InputError>,
    /// Things left out on purpose, said out loud: non-object documents, Helm charts,
    /// duplicate keys.
    pub notices: Vec<InputError>,
    /// Files (and stdin, and kustomizations) read.
    pub files: usize,
}

impl Loaded {
    fn absorb(&mut self, other: Loaded) {
        self.objects.extend(other.objects);
        self.errors.extend(other.errors);
        self.notices.extend(other.notices);
        self.files += other.files;
    }
}

/// Reads every object from the given paths.
pub fn load(paths: &[PathBuf], options: &Options) -> Loaded {
    load_inputs(&expand(paths), options, &|| {})
}

/// Reads every object from expanded inputs, calling `progress` after each input.
pub fn load_inputs(inputs: &[Input], options: &Options, progress: &(dyn Fn() + Sync)) -> Loaded {
    let parts: Vec<Loaded> = inputs
        .par_iter()
        .map(|input| {
            let part = load_input(input, options);
            progress();
            part
        })
        .collect();
    let mut loaded = Loaded::default();
    for part in parts {
        loaded.absorb(part);
    }
    loaded
}

/// Reads objects from raw bytes: checks the encoding (UTF-8, no binary data), then parses.
pub fn load_bytes(name: &str, bytes: Vec<u8>, options: &Options) -> Loaded {
    match decode(bytes) {
        Ok(text) => load_text_with(name, &text, options),
        Err(e) => failed(name, e),
    }
}

/// Reads objects from text (a file already in memory, or stdin).
pub fn load_text(name: &str, text: &str) -> Loaded {
    load_text_with(name, text, &Options::default())
}

/// Reads a text leaving out CRD validation schemas: their lines are blanked before parsing
/// when that is provably safe, and skipped while building values in any case. Should the
/// blanked text not parse, the text is read again as written, so that the error reported is
/// the one in the file.
fn read_without_crd_schemas(text: &str, limits: Limits) -> Parsed {
    if let Some(blanked) = elide::crd_schemas_blanked(text) {
        let parsed = parse_without_crd_schemas(&blanked, limits);
        if parsed.error.is_none() {
            return parsed;
        }
    }
    parse_without_crd_schemas(text, limits)
}

fn load_text_with(name: &str, text: &str, options: &Options) -> Loaded {
    let file: Arc<str> = Arc::from(name);
    let parsed = if options.keep_crd_schemas {
        parse(text, options.limits)
    } else {
        read_without_crd_schemas(text, options.limits)
    };
    let found = objects::from_documents(&file, parsed.documents, options.keep_crd_schemas);
    let mut loaded = Loaded {
        objects: found.objects,
        files: 1,
        ..Loaded::default()
    };
    loaded
        .errors
        .extend(found.errors.into_iter().map(|e| e.into_input_error(name)));
    loaded
        .errors
        .extend(parsed.error.map(|e| e.into_input_error(name)));
    loaded
        .notices
        .extend(found.skipped.into_iter().map(|e| e.into_input_error(name)));
    loaded.notices.extend(
        parsed
            .warnings
            .into_iter()
            .map(|e| e.into_input_error(name)),
    );
    loaded
}

fn load_input(input: &Input, options: &Options) -> Loaded {
    match input {
        Input::File(path) => {
            let name = display(path);
            match read_file(path, options.max_file_size) {
                Ok(bytes) => load_bytes(&name, bytes, options),
                Err(e) => failed(&name, e),
            }
        }
        Input::Stdin => {
            let mut bytes = Vec::new();
            let limit = options.max_file_size;
            match std::io::stdin().take(limit + 1).read_to_end(&mut bytes) {
                Ok(n) if n as u64 > limit => failed("-", too_big(limit)),
                Ok(_) => load_bytes("-", bytes, options),
                Err(e) => failed("-", LoadError::File(format!("cannot read stdin: {e}"))),
            }
        }
        Input::Kustomize(dir) => {
            let name = display(dir);
            match kustomize::render(dir) {
                Ok(text) => load_text_with(&format!("{name} (kustomize)"), &text, options),
                Err(e) => failed(&name, e),
            }
        }
        Input::Unreadable(path, why) => failed(&display(path), LoadError::File(why.clone())),
        Input::Skipped(path, why) => Loaded {
            notices: vec![LoadError::File(why.clone()).into_input_error(&display(path))],
            ..Loaded::default()
        },
    }
}

fn failed(name: &str, error: LoadError) -> Loaded {
    Loaded {
        errors: vec![error.into_input_error(name)],
        files: 1,
        ..Loaded::default()
    }
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn too_big(limit: u64) -> LoadError {
    LoadError::File(format!(
        "larger than the {} MiB limit; split it, or raise --max-file-size",
        limit / (1024 * 1024)
    ))
}

fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, LoadError> {
    let file =
        std::fs::File::open(path).map_err(|e| LoadError::File(format!("cannot open: {e}")))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::File(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(too_big(limit));
    }
    Ok(bytes)
}

/// Checks the bytes are text: UTF-8 (a BOM is dropped), no NUL bytes.
fn decode(bytes: Vec<u8>) -> Result<String, LoadError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(LoadError::File(
            "UTF-16 text is not supported: convert the file to UTF-8".into(),
        ));
    }
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        let line = bytes.iter().take(at).filter(|b| **b == b'\n').count() as u32 + 1;
        return Err(LoadError::Syntax {
            line,
            column: 1,
            message: format!("binary data (a NUL byte at offset {at}): not a YAML or JSON file"),
        });
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .iter()
            .take(at)
            .filter(|b| **b == b'\n')
            .count() as u32
            + 1;
        LoadError::Syntax {
            line,
            column: 1,
            message: format!("invalid UTF-8 at byte offset {at}: YAML and JSON must be UTF-8"),
        }
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn walks_directories_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/.git")).unwrap();
        fs::write(
            root.join("a/pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
        )
        .unwrap();
        fs::write(root.join("a/.git/x.yaml"), "apiVersion: v1\nkind: Pod\n").unwrap();
        fs::write(root.join("a/bad.yaml"), "a: [1\n").unwrap();
        fs::write(root.join("a/bin.json"), [0u8, 1, 2]).unwrap();
        fs::write(root.join("a/notes.txt"), "ignored").unwrap();
        fs::create_dir_all(root.join("chart/templates")).unwrap();
        fs::write(root.join("chart/Chart.yaml"), "name: c\n").unwrap();
        let loaded = load(
            &[root.to_path_buf(), root.join("missing.yaml")],
            &Options::default(),
        );
        assert_eq!(loaded.objects.len(), 1);
        assert_eq!(loaded.errors.len(), 3, "{:?}", loaded.errors);
        assert!(loaded.errors.iter().any(|e| e.message.contains("binary")));
        assert!(
            loaded
                .errors
                .iter()
                .any(|e| e.message.contains("no such file"))
        );
        assert!(
            loaded
                .notices
                .iter()
                .any(|n| n.message.contains("Helm chart"))
        );
    }

    #[test]
    fn rejects_bad_encodings() {
        assert!(decode(vec![b'a', 0xC3, 0x28]).is_err());
        assert!(decode(vec![0xFF, 0xFE, b'a', 0]).is_err());
        assert_eq!(decode("\u{feff}a: 1".as_bytes().to_vec()).unwrap(), "a: 1");
    }

    #[test]
    fn size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        fs::write(&path, "a: 1\n".repeat(1000)).unwrap();
        let options = Options {
            max_file_size: 100,
            ..Options::default()
        };
        let loaded = load(&[path], &options);
        assert!(loaded.errors[0].message.contains("limit"));
    }
}
