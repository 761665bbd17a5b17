//! The terminal UI end to end, as a person sees it: a server, a `--json` client, and the UI
//! client in a tmux pane of a fixed size. The test types with `tmux send-keys` and reads the
//! screen with `tmux capture-pane`. Skipped (with the reason printed) when tmux is missing.

use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use feige_tests::proc::{binary_path, can_run, start_chat, start_server, STEP};

/// The pane the UI runs in: wide enough for the whole status line.
const WIDTH: u16 = 90;
const HEIGHT: u16 = 20;

/// A private tmux server (its own socket) holding one session; killed on drop, pass or panic.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Whether a usable tmux is installed.
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|out| out.status.success())
    }

    /// Starts `program args…` in a detached WIDTH x HEIGHT session, under a shell that then
    /// prints the exit status and stays, so the last screen can be read (tmux may drop the last
    /// output of a pane whose process exits).
    fn start(program: &Path, args: &[&str]) -> Tmux {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmux = Tmux {
            socket: format!("feige-tui-{}-{nanos}", std::process::id()),
        };
        let (width, height) = (WIDTH.to_string(), HEIGHT.to_string());
        let program = program.to_str().expect("a UTF-8 binary path");
        let script = r#""$@"; echo "exited with $?"; sleep 600"#;
        let mut new_session = vec![
            "new-session",
            "-d",
            "-s",
            "ui",
            "-x",
            &width,
            "-y",
            &height,
            "sh",
            "-c",
            script,
            "sh",
            program,
        ];
        new_session.extend_from_slice(args);
        tmux.run(&new_session);
        tmux
    }

    /// Runs one tmux command on this server; panics if it fails.
    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            // UTF-8 whatever the locale, no user configuration.
            .args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .args(args)
            .env("LANG", "C.UTF-8")
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "ui", "-l", text]);
    }

    /// Presses a named key (`Enter`, `Escape`, `Tab`…).
    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "ui", key]);
    }

    /// The pane's screen as text.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "ui"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen satisfies `ready`; panics with the last screen after [`STEP`].
    fn wait_screen(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} on screen within {STEP:?}; the screen:\n{screen}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// Alice uses the UI, bob a `--json` client: the list shows both, messages go both ways and are
/// marked delivered, and Esc logs out, gives the terminal back and exits 0.
fn chat_in_the_ui(binary: &str) {
    let missing =
        (!Tmux::available()).then(|| "tmux is not installed (the CI script installs it)".into());
    if !can_run("chat_in_the_ui", missing, false) {
        return;
    }
    let binary = binary_path(binary);
    let mut server = start_server(&binary, "127.0.0.1");
    let mut bob = start_chat(&binary, "bob", server.udp);
    let server_addr = server.udp.to_string();
    let ui = Tmux::start(
        &binary,
        &["chat", "alice", "--ephemeral", "--server", &server_addr],
    );

    let screen = ui.wait_screen("the contact list", |s| {
        s.contains("Online (2)") && s.contains("alice (you)") && s.contains(">bob")
    });
    assert!(screen.contains("online | alice @ 127.0.0.1:"), "{screen}");
    server.wait_for("alice joined", |v| {
        v["event"] == "joined" && v["name"] == "alice"
    });

    ui.type_text("hello bob, 你好");
    ui.press("Enter");
    let message = bob.wait_event("message");
    assert_eq!(message["from"], "alice");
    assert_eq!(message["text"], "hello bob, 你好");
    ui.wait_screen("the delivered mark", |s| {
        s.contains("✓ you: hello bob, 你好")
    });

    bob.send_line("/msg alice hi alice");
    ui.wait_screen("bob's answer", |s| s.contains("bob: hi alice"));

    ui.press("Escape");
    bob.wait_for("alice left", |v| {
        v["event"] == "left" && v["name"] == "alice"
    });
    // Exit status 0 after a proper logout, and the terminal is back to the normal screen, where
    // the last event is printed.
    let after = ui.wait_screen("the exit", |s| s.contains("exited with"));
    assert!(after.contains("exited with 0"), "{after}");
    assert!(after.contains("logged out"), "{after}");
    assert!(!after.contains("Online (2)"), "UI left on screen:\n{after}");
}

#[test]
fn smol_chat_ui_in_tmux() {
    chat_in_the_ui("feige-smol");
}

#[test]
fn std_chat_ui_in_tmux() {
    chat_in_the_ui("feige");
}
