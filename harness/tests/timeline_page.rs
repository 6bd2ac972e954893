//! `timeline.html` in a real browser: headless Chromium loads the page of a
//! small run and its script reports how many lanes were laid out. Skipped,
//! with a notice, where no Chromium is installed (`scripts/install-chromium.sh`
//! installs it; CI runs that).

use harness::artifacts::page;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long Chromium may take to load and dump the page.
const BROWSER_LIMIT: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|b| std::env::split_paths(&path).map(move |d| d.join(b)))
        .find(|p| p.is_file())
}

/// A three-node run: an election, a crash, a partition, applies, a failure.
fn folder(dir: &Path) {
    let timeline = "  0.000100s  begin Test (2B): agreement after follower reconnects\n  0.005000s  node 0 started (pid 1, incarnation 1)\n  0.006000s  node 1 started (pid 2, incarnation 2)\n  0.007000s  node 2 started (pid 3, incarnation 3)\n  0.400000s  node 1 leads in term 1\n  0.401000s  node 0 does not lead in term 1\n  0.402000s  node 2 does not lead in term 1\n  1.000000s  disconnect 2\n  2.000000s  node 0 killed (pid 1)\n  2.500000s  node 0 started (pid 4, incarnation 4)\n  3.000000s  connect 2\n  3.100000s  calls 1->2 blocked true\n  3.600000s  one-way faults lifted\n  4.000000s  FAILED: expected 3 servers to agree on index 12, got 2\n";
    std::fs::write(dir.join("timeline.log"), timeline).unwrap();
    let mut activity = String::from("# activity\n");
    for b in 5..40 {
        let t = b as f64 / 10.0;
        activity.push_str(&format!(
            "{t:10.6}s apply 1 3\n{t:10.6}s commit - 3\n{t:10.6}s rpc 0 20\n{t:10.6}s rpc 2 20\n"
        ));
    }
    std::fs::write(dir.join("activity.log"), activity).unwrap();
    for n in 0..3 {
        std::fs::write(dir.join(format!("n{n}.log")), "  0.004000s  INFO node: starting\n").unwrap();
    }
}

#[test]
fn timeline_page_renders_in_chromium() {
    let Some(browser) = chromium() else {
        println!("NOTICE: skipped: no Chromium on PATH (scripts/install-chromium.sh installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path());
    let html = page::write(dir.path()).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > BROWSER_LIMIT {
            let _ = child.kill();
            panic!("{} did not finish within {BROWSER_LIMIT:?}", browser.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert!(
        dom.contains(r#"data-rendered-lanes="3""#),
        "the page's script should lay out 3 lanes; the body it left: {}",
        dom.lines().find(|l| l.contains("<body")).unwrap_or("(no body)")
    );
    assert!(dom.contains("FAILED: expected 3 servers to agree"), "the failure is shown");
}
