//! Hooks for the integration tests into the frameworks' own readers (see
//! `crate::testing`).

/// A Django migration's references, each as (app, name, app's text in
/// the file, name's text in the file); `Ok(None)` without a Migration
/// class. Runs on a thread with the readers' stack, as the binary does.
#[allow(clippy::type_complexity)]
pub fn read_django(src: &[u8]) -> Result<Option<Vec<(String, String, Vec<u8>, Vec<u8>)>>, String> {
    let src = src.to_vec();
    std::thread::Builder::new()
        .stack_size(crate::parallel::READER_STACK)
        .spawn(move || {
            use crate::frameworks::django::parse::DepItem;
            let class = crate::frameworks::django::parse::read(&src).map_err(|e| e.to_string())?;
            Ok(class.map(|c| {
                [c.dependencies, c.replaces, c.run_before]
                    .into_iter()
                    .flat_map(|l| l.items)
                    .filter_map(|i| match i {
                        DepItem::Key { app, name } => Some((
                            app.value,
                            name.value,
                            src[app.inner].to_vec(),
                            src[name.inner].to_vec(),
                        )),
                        _ => None,
                    })
                    .collect()
            }))
        })
        .expect("a reader thread can be spawned")
        .join()
        .expect("the readers do not panic")
}

/// A Django migration's `Migration` class from each reader, as comparable
/// text: the quick parse's (`None` where it declines) and the full parse's.
/// Runs on a thread with the readers' stack, as the binary does.
pub fn django_quick_and_full(src: &[u8]) -> (Option<String>, Result<String, String>) {
    let src = src.to_vec();
    std::thread::Builder::new()
        .stack_size(crate::parallel::READER_STACK)
        .spawn(move || {
            use crate::frameworks::django::parse::{read_full, read_quick};
            let quick = read_quick(&src).map(|c| format!("{c:?}"));
            let full = read_full(&src)
                .map(|c| format!("{c:?}"))
                .map_err(|e| e.to_string());
            (quick, full)
        })
        .expect("a reader thread can be spawned")
        .join()
        .expect("the readers do not panic")
}

/// Parses a plan and renders it back from its fields (each line with
/// its ending), with the lint messages other than missing scripts.
pub fn plan_round_trip(text: &str) -> (String, Vec<String>) {
    use crate::frameworks::sqitch::lint::lint;
    use crate::frameworks::sqitch::plan::{LineKind, Plan};
    let plan = Plan::parse(text);
    let mut out = String::new();
    for line in &plan.lines {
        match &line.kind {
            LineKind::Change(e) | LineKind::Tag(e) => out.push_str(&e.render()),
            _ => out.push_str(&text[line.span.clone()]),
        }
        let end = text[line.span.end..]
            .find('\n')
            .map_or(text.len(), |i| line.span.end + i + 1);
        out.push_str(&text[line.span.end..end]);
    }
    let spec = crate::frameworks::sqitch::SqitchSpec::with_defaults(
        "sqitch.plan".into(),
        std::path::Path::new(""),
    );
    let lints = lint(&plan, &spec, &Default::default())
        .into_iter()
        .filter(|l| !l.kind.contains("script"))
        .map(|l| format!("{}: {}", l.line, l.message))
        .collect();
    (out, lints)
}

/// sqitch plan parsing, for the property tests: the line count.
pub fn parse_plan(text: &str) -> usize {
    crate::frameworks::sqitch::plan::Plan::parse(text)
        .lines
        .len()
}
