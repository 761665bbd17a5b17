//! Taking over the terminal (raw mode, alternate screen, bracketed paste) and giving it back, on
//! a normal exit and on a panic alike, so the user's shell is never left unusable.

use std::io;
use std::panic;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};

/// Whether the terminal is ours right now, so restoring twice (guard and panic hook) is
/// harmless.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Holds the terminal; dropping it gives the terminal back.
pub struct TerminalGuard(());

impl TerminalGuard {
    /// Takes over the terminal. A panic from here on restores it before the message prints.
    pub fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        TAKEN.store(true, Ordering::SeqCst);
        match execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste) {
            Ok(()) => Ok(TerminalGuard(())),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: cooked mode, the main screen, a visible cursor. Does nothing if the
/// terminal is not taken.
fn restore() {
    if !TAKEN.swap(false, Ordering::SeqCst) {
        return;
    }
    // Best effort: there is nobody to report a failure to while the terminal is in doubt.
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
}

/// Restores the terminal before the previous hook prints the panic, so the message lands on the
/// normal screen, readable.
fn install_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
