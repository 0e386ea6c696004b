// Temporary: runs the fixture test for one id prefix only.
#[cfg(test)]
mod scratch_fixtures {
    use crate::{catalog, evaluate};
    use std::collections::BTreeSet;
    use std::path::Path;

    fn run(control: &crate::Control, file: &Path) -> (Vec<(u32, String)>, BTreeSet<u32>) {
        let text = std::fs::read_to_string(file).unwrap();
        let loaded = palisade_loader::load_text(&file.display().to_string(), &text);
        assert!(loaded.errors.is_empty(), "{}: {:?}", file.display(), loaded.errors);
        let result = evaluate(&loaded.objects, &[control]);
        let lines = result.findings.iter().map(|f| (f.location.line, f.message.clone())).collect();
        let marked = text.lines().enumerate().filter(|(_, l)| l.contains("# finding")).map(|(i, _)| i as u32 + 1).collect();
        (lines, marked)
    }

    #[test]
    fn scratch() {
        let prefix = std::env::var("PAL_PREFIX").unwrap_or_else(|_| "PAL-5".into());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut problems = Vec::new();
        for control in catalog().unwrap().iter().filter(|c| c.meta.id.starts_with(&prefix)) {
            let id = &control.meta.id;
            let (fail, marked) = run(control, &dir.join(id).join("fail.yaml"));
            for (l, m) in &fail { println!("{id} fail:{l}: {m}"); }
            let found: BTreeSet<u32> = fail.iter().map(|x| x.0).collect();
            if fail.is_empty() || found != marked { problems.push(format!("{id}: found {found:?} marked {marked:?}")); }
            let (pass, _) = run(control, &dir.join(id).join("pass.yaml"));
            for (l, m) in &pass { println!("{id} PASS:{l}: {m}"); }
            if !pass.is_empty() { problems.push(format!("{id}: pass gives {pass:?}")); }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
