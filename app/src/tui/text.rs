//! Text measured in terminal columns: wide (CJK) characters take two, combining marks none. The
//! view wraps and cuts with these so columns line up whatever the script.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Columns `text` takes.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` safe to put on a terminal: a peer's control characters (escape sequences above all)
/// become `?`, tabs a space.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '?',
            c => c,
        })
        .collect()
}

/// Splits `text` into lines of at most `first` columns (the first line) and `rest` columns (the
/// others), breaking after a space when a word would not fit, inside the word only when it is
/// longer than a line. A grapheme wider than a whole line gets a line of its own.
pub fn wrap(text: &str, first: usize, rest: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    // Byte offset just after the line's last space, and the columns up to it.
    let mut after_space: Option<(usize, usize)> = None;
    for grapheme in text.graphemes(true) {
        let columns = width(grapheme);
        loop {
            let limit = if lines.is_empty() { first } else { rest };
            if used == 0 || used + columns <= limit {
                break;
            }
            match after_space.take() {
                Some((cut, cut_used)) if cut < line.len() => {
                    let carried = line.split_off(cut);
                    lines.push(std::mem::replace(&mut line, carried));
                    used -= cut_used;
                }
                _ => {
                    lines.push(std::mem::take(&mut line));
                    used = 0;
                }
            }
        }
        line.push_str(grapheme);
        used += columns;
        if grapheme == " " {
            after_space = Some((line.len(), used));
        }
    }
    lines.push(line);
    lines
}

/// The longest start of `text` that fits in `columns`, with `~` marking a cut.
pub fn truncate(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for grapheme in text.graphemes(true) {
        let w = width(grapheme);
        if used + w + 1 > columns {
            break;
        }
        out.push_str(grapheme);
        used += w;
    }
    if columns > 0 {
        out.push('~');
    }
    out
}

/// The end of `text` that fits in `columns` (where the input line's cursor is kept in view).
pub fn tail(text: &str, columns: usize) -> &str {
    let mut start = text.len();
    let mut used = 0;
    for (i, grapheme) in text.grapheme_indices(true).rev() {
        used += width(grapheme);
        if used > columns {
            break;
        }
        start = i;
    }
    text.get(start..).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_twice() {
        assert_eq!(width("ab"), 2);
        assert_eq!(width("你好"), 4);
        assert_eq!(width("e\u{301}"), 1);
    }

    #[test]
    fn wraps_at_spaces_when_it_can() {
        assert_eq!(wrap("hello big world", 10, 10), ["hello big ", "world"]);
        assert_eq!(wrap("abcdefghij", 4, 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab cdefghij", 4, 3), ["ab ", "cde", "fgh", "ij"]);
        assert_eq!(wrap("", 4, 4), [""]);
    }

    #[test]
    fn wide_characters_never_straddle_a_line_end() {
        let lines = wrap("你好世界", 5, 3);
        assert_eq!(lines, ["你好", "世", "界"]);
        assert!(lines.iter().all(|l| width(l) <= 5));
        // A column too narrow for one: each still shows, one per line.
        assert_eq!(wrap("你好", 1, 1), ["你", "好"]);
        assert_eq!(wrap("ab", 0, 0), ["a", "b"]);
    }

    #[test]
    fn peer_control_characters_cannot_reach_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\tc\u{9b}"), "a?[2Jb c?");
    }

    #[test]
    fn truncation_and_tail_respect_widths() {
        assert_eq!(truncate("小明王", 4), "小~");
        assert_eq!(truncate("小明", 4), "小明");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(tail("abc你好", 4), "你好");
        assert_eq!(tail("abc你好", 5), "c你好");
        assert_eq!(tail("你好", 1), "");
    }
}
