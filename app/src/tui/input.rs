//! The input line: text, a cursor that moves by grapheme (so `é` typed as `e` + accent, or a
//! family emoji, is one step), and a history of sent lines browsed with Up / Down.

use std::collections::VecDeque;

use unicode_segmentation::UnicodeSegmentation;

/// Longest input kept, in bytes: far more than one chat datagram holds, so the send error (not a
/// silent cut) tells the user, while a runaway paste cannot grow without bound.
pub const MAX_INPUT_BYTES: usize = 16 << 10;

/// How many sent lines Up can bring back.
const MAX_HISTORY: usize = 100;

/// The line being typed.
#[derive(Debug, Default, Clone)]
pub struct InputLine {
    text: String,
    /// Byte offset, always on a grapheme boundary.
    cursor: usize,
    history: VecDeque<String>,
    /// Which history entry is shown (0 = newest), or `None` while editing a fresh line.
    browsing: Option<usize>,
    /// The fresh line put aside while browsing, restored by Down past the newest entry.
    draft: String,
}

impl InputLine {
    /// The text typed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text before the cursor (what the view measures to place the cursor).
    pub fn before_cursor(&self) -> &str {
        self.text.get(..self.cursor).unwrap_or(&self.text)
    }

    /// Inserts text at the cursor; line ends become spaces (one input line is one message), other
    /// control characters are dropped. Stops at [`MAX_INPUT_BYTES`].
    pub fn insert(&mut self, text: &str) {
        let mut clean = String::with_capacity(text.len());
        for c in text.chars() {
            let c = if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            };
            if c.is_control() {
                continue;
            }
            if self.text.len() + clean.len() + c.len_utf8() > MAX_INPUT_BYTES {
                break;
            }
            clean.push(c);
        }
        self.text.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
        // A combining mark may have joined the grapheme before it: stay on a boundary.
        self.cursor = self.boundary_at_or_after(self.cursor);
    }

    /// Cursor one grapheme left.
    pub fn left(&mut self) {
        self.cursor = self.previous_boundary();
    }

    /// Cursor one grapheme right.
    pub fn right(&mut self) {
        self.cursor = self.next_boundary();
    }

    /// Cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.len();
    }

    /// Deletes the grapheme before the cursor.
    pub fn backspace(&mut self) {
        let start = self.previous_boundary();
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    /// Deletes the grapheme under the cursor.
    pub fn delete(&mut self) {
        let end = self.next_boundary();
        self.text.replace_range(self.cursor..end, "");
    }

    /// Takes the line (for sending): the input empties and the line joins the history.
    pub fn take(&mut self) -> String {
        let line = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        if !line.trim().is_empty() && self.history.front() != Some(&line) {
            self.history.push_front(line.clone());
            self.history.truncate(MAX_HISTORY);
        }
        line
    }

    /// Shows the next older history entry, if any.
    pub fn older(&mut self) {
        let next = self.browsing.map_or(0, |i| i + 1);
        let Some(entry) = self.history.get(next) else {
            return;
        };
        if self.browsing.is_none() {
            self.draft = std::mem::take(&mut self.text);
        }
        self.text = entry.clone();
        self.browsing = Some(next);
        self.end();
    }

    /// Shows the next newer history entry, or the line put aside when past the newest.
    pub fn newer(&mut self) {
        match self.browsing {
            None => {}
            Some(0) => {
                self.text = std::mem::take(&mut self.draft);
                self.browsing = None;
                self.end();
            }
            Some(i) => {
                if let Some(entry) = self.history.get(i - 1) {
                    self.text = entry.clone();
                }
                self.browsing = Some(i - 1);
                self.end();
            }
        }
    }

    fn previous_boundary(&self) -> usize {
        self.before_cursor()
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        let rest = self.text.get(self.cursor..).unwrap_or("");
        rest.graphemes(true)
            .next()
            .map_or(self.text.len(), |g| self.cursor + g.len())
    }

    fn boundary_at_or_after(&self, offset: usize) -> usize {
        self.text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .find(|&i| i >= offset)
            .unwrap_or(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> InputLine {
        let mut input = InputLine::default();
        input.insert(text);
        input
    }

    #[test]
    fn editing_moves_by_whole_cjk_characters() {
        let mut input = typed("你好世界");
        input.left();
        input.left();
        assert_eq!(input.before_cursor(), "你好");
        input.backspace();
        assert_eq!(input.text(), "你世界");
        input.delete();
        assert_eq!(input.text(), "你界");
        input.insert("们");
        assert_eq!(input.text(), "你们界");
        assert_eq!(input.before_cursor(), "你们");
        input.home();
        input.insert("a");
        input.end();
        input.insert("!");
        assert_eq!(input.text(), "a你们界!");
    }

    #[test]
    fn a_combining_accent_is_one_step() {
        let mut input = typed("e\u{301}x");
        input.left();
        input.left();
        assert_eq!(input.before_cursor(), "");
        input.delete();
        assert_eq!(input.text(), "x");
    }

    #[test]
    fn edges_do_nothing() {
        let mut input = typed("ab");
        input.right();
        input.delete();
        assert_eq!(input.text(), "ab");
        input.home();
        input.left();
        input.backspace();
        assert_eq!(input.text(), "ab");
        assert_eq!(input.before_cursor(), "");
    }

    #[test]
    fn pasted_line_ends_become_spaces_and_controls_go() {
        let input = typed("one\ntwo\r\n\u{7}three");
        assert_eq!(input.text(), "one two  three");
    }

    #[test]
    fn input_is_bounded() {
        let input = typed(&"字".repeat(MAX_INPUT_BYTES));
        assert!(input.text().len() <= MAX_INPUT_BYTES);
        assert!(input.text().len() > MAX_INPUT_BYTES - 4);
    }

    #[test]
    fn history_brings_back_sent_lines_and_the_draft() {
        let mut input = typed("first");
        assert_eq!(input.take(), "first");
        input.insert("second");
        input.take();
        input.insert("draft");
        input.older();
        assert_eq!(input.text(), "second");
        input.older();
        assert_eq!(input.text(), "first");
        input.older();
        assert_eq!(input.text(), "first");
        input.newer();
        assert_eq!(input.text(), "second");
        input.newer();
        assert_eq!(input.text(), "draft");
        assert_eq!(input.before_cursor(), "draft");
        input.newer();
        assert_eq!(input.text(), "draft");
    }

    #[test]
    fn blank_and_repeated_lines_stay_out_of_history() {
        let mut input = typed("same");
        input.take();
        input.insert("same");
        input.take();
        input.insert("  ");
        input.take();
        input.older();
        assert_eq!(input.text(), "same");
        input.older();
        assert_eq!(input.text(), "same");
        input.newer();
        assert_eq!(input.text(), "");
    }
}
