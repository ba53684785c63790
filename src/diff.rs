//! A plan as a git-style unified diff: renames as `rename from`/`rename to`,
//! new files as added. `git apply` accepts it.

use std::fmt;
use std::path::Path;

use similar::TextDiff;

use crate::config::rel;
use crate::plan::{Change, Plan};

pub(crate) struct PlanDiff<'a> {
    pub plan: &'a Plan,
    pub root: &'a Path,
}

impl fmt::Display for PlanDiff<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in &self.plan.changes {
            write_change(f, self.root, change)?;
        }
        Ok(())
    }
}

fn write_change(f: &mut fmt::Formatter<'_>, root: &Path, c: &Change) -> fmt::Result {
    let to = rel(root, &c.to);
    let from = c.from.as_ref().map_or_else(|| to.clone(), |p| rel(root, p));
    writeln!(f, "diff --git a/{from} b/{to}")?;
    if c.is_new() {
        writeln!(f, "new file mode 100644")?;
    } else if c.is_rename() {
        writeln!(f, "rename from {from}")?;
        writeln!(f, "rename to {to}")?;
    }
    if c.before == c.after {
        return Ok(());
    }
    let old = String::from_utf8_lossy(&c.before);
    let new = String::from_utf8_lossy(&c.after);
    let diff = TextDiff::from_lines(old.as_ref(), new.as_ref());
    let a = if c.is_new() {
        "/dev/null".to_string()
    } else {
        format!("a/{from}")
    };
    let b = format!("b/{to}");
    write!(
        f,
        "{}",
        diff.unified_diff().context_radius(3).header(&a, &b)
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn rename_with_edit_and_new_file() {
        let plan = Plan {
            changes: vec![
                Change {
                    from: Some(PathBuf::from("/r/v/0148_a.py")),
                    to: PathBuf::from("/r/v/0151_a.py"),
                    before: b"x = 1\nrevision = '0148'\n".to_vec(),
                    after: b"x = 1\nrevision = '0151'\n".to_vec(),
                },
                Change {
                    from: None,
                    to: PathBuf::from("/r/v/0152_m.py"),
                    before: vec![],
                    after: b"pass\n".to_vec(),
                },
            ],
        };
        let text = PlanDiff {
            plan: &plan,
            root: Path::new("/r"),
        }
        .to_string();
        assert_eq!(
            text,
            "diff --git a/v/0148_a.py b/v/0151_a.py\nrename from v/0148_a.py\nrename to v/0151_a.py\n\
             --- a/v/0148_a.py\n+++ b/v/0151_a.py\n@@ -1,2 +1,2 @@\n x = 1\n-revision = '0148'\n+revision = '0151'\n\
             diff --git a/v/0152_m.py b/v/0152_m.py\nnew file mode 100644\n--- /dev/null\n+++ b/v/0152_m.py\n@@ -0,0 +1 @@\n+pass\n"
        );
    }
}
