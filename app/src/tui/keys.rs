//! The keys the UI understands, mapped from crossterm's events in this one place so the model
//! never sees a terminal type and its tests can type without one.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// One key press (or paste) as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// Pasted text (bracketed paste), inserted at once so its line ends cannot send it early.
    Paste(String),
    /// Send the input line (or, in the contact list, go back to the input).
    Enter,
    /// Delete the grapheme before the cursor.
    Backspace,
    /// Delete the grapheme under the cursor.
    Delete,
    /// Cursor one grapheme left.
    Left,
    /// Cursor one grapheme right.
    Right,
    /// Cursor to the start of the input.
    Home,
    /// Cursor to the end of the input.
    End,
    /// Older history entry, or the previous contact when the list has focus.
    Up,
    /// Newer history entry, or the next contact when the list has focus.
    Down,
    /// Move the focus between the input and the contact list.
    Tab,
    /// Same as [`Key::Tab`] (Shift-Tab).
    BackTab,
    /// Scroll the conversation one page back.
    PageUp,
    /// Scroll the conversation one page forward.
    PageDown,
    /// Esc or Ctrl-C: log out and leave.
    Quit,
    /// Ctrl-L: repaint the whole screen (after something else wrote to the terminal).
    Redraw,
}

/// What the terminal reported, reduced to what the UI acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermInput {
    /// A key the UI understands.
    Key(Key),
    /// The terminal changed size: draw again.
    Resize,
}

/// Maps one crossterm event; `None` for events the UI ignores (key releases, mouse, focus, and
/// keys without a meaning here).
pub fn map_event(event: Event) -> Option<TermInput> {
    match event {
        Event::Key(key) => map_key(key).map(TermInput::Key),
        Event::Paste(text) => Some(TermInput::Key(Key::Paste(text))),
        Event::Resize(_, _) => Some(TermInput::Resize),
        Event::FocusGained | Event::FocusLost | Event::Mouse(_) => None,
    }
}

fn map_key(key: KeyEvent) -> Option<Key> {
    // Terminals that report releases (kitty protocol) would otherwise type every key twice.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c' | 'C') if ctrl => Key::Quit,
        KeyCode::Char('l' | 'L') if ctrl => Key::Redraw,
        KeyCode::Char('a' | 'A') if ctrl => Key::Home,
        KeyCode::Char('e' | 'E') if ctrl => Key::End,
        KeyCode::Char(_) if ctrl || key.modifiers.contains(KeyModifiers::ALT) => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Esc => Key::Quit,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Option<TermInput> {
        map_event(Event::Key(KeyEvent::new(code, modifiers)))
    }

    #[test]
    fn printable_keys_type_themselves() {
        assert_eq!(
            press(KeyCode::Char('中'), KeyModifiers::NONE),
            Some(TermInput::Key(Key::Char('中')))
        );
        assert_eq!(
            press(KeyCode::Char('A'), KeyModifiers::SHIFT),
            Some(TermInput::Key(Key::Char('A')))
        );
    }

    #[test]
    fn control_keys_have_their_meaning_or_none() {
        assert_eq!(
            press(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(TermInput::Key(Key::Quit))
        );
        assert_eq!(
            press(KeyCode::Esc, KeyModifiers::NONE),
            Some(TermInput::Key(Key::Quit))
        );
        assert_eq!(
            press(KeyCode::Char('l'), KeyModifiers::CONTROL),
            Some(TermInput::Key(Key::Redraw))
        );
        assert_eq!(press(KeyCode::Char('x'), KeyModifiers::CONTROL), None);
        assert_eq!(press(KeyCode::F(5), KeyModifiers::NONE), None);
    }

    #[test]
    fn releases_are_ignored() {
        let mut release = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(map_event(Event::Key(release)), None);
    }

    #[test]
    fn paste_and_resize() {
        assert_eq!(
            map_event(Event::Paste("a\nb".into())),
            Some(TermInput::Key(Key::Paste("a\nb".into())))
        );
        assert_eq!(map_event(Event::Resize(10, 10)), Some(TermInput::Resize));
    }
}
