//! Drawing the [`Model`] with ratatui: the status line on top, the contact list on the left, the
//! conversation on the right, the input and a key hint at the bottom. Every part shrinks or
//! drops out on small terminals instead of failing; text is wrapped and cut in terminal columns.

use std::time::Instant;

use feige_core::client::Via;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::contact::{Contact, Delivery, Entry, EntryKind, Presence};
use super::model::{Connection, Focus, Model};
use super::text::{printable, tail, truncate, width, wrap};

/// Narrower than this, the contact list is left out: the conversation matters more.
const MIN_WIDTH_FOR_CONTACTS: u16 = 24;

/// Fewer columns than this left after a message's header, its text starts on the next line.
const MIN_TEXT_AFTER_HEADER: usize = 8;

/// Below this height the input loses its frame.
const MIN_HEIGHT_FOR_FRAMED_INPUT: u16 = 12;

/// What the model needs to know of the last drawing to scroll by pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    /// Conversation lines on screen.
    pub page: usize,
    /// How far back the conversation can scroll.
    pub max_scroll: usize,
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, model: &Model, now: Instant) -> Viewport {
    let area = frame.area();
    let height = area.height;
    let status_rows = u16::from(height >= 3);
    let hint_rows = u16::from(height >= 6);
    let input_rows = match height {
        0 => 0,
        h if h >= MIN_HEIGHT_FOR_FRAMED_INPUT => 3,
        _ => 1,
    };
    let [status, main, input, hint] = Layout::vertical([
        Constraint::Length(status_rows),
        Constraint::Min(0),
        Constraint::Length(input_rows),
        Constraint::Length(hint_rows),
    ])
    .areas(area);

    let contacts_width = if main.width >= MIN_WIDTH_FOR_CONTACTS {
        (main.width / 3).clamp(12, 28)
    } else {
        0
    };
    let [contacts, conversation] =
        Layout::horizontal([Constraint::Length(contacts_width), Constraint::Min(0)]).areas(main);

    draw_status(frame, model, status);
    draw_contacts(frame, model, now, contacts);
    let viewport = draw_conversation(frame, model, conversation);
    draw_input(frame, model, input);
    draw_hint(frame, model, hint);
    viewport
}

/// A frame around `area` if there is room for one, and the area left inside.
fn framed(area: Rect, title: String, focused: bool) -> (Option<Block<'static>>, Rect) {
    if area.height < 3 || area.width < 3 {
        return (None, area);
    }
    let style = if focused {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(style)
        .title(format!(" {title} "));
    let inner = block.inner(area);
    (Some(block), inner)
}

fn draw_status(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    let me = match model.me() {
        Some(me) => format!(" | {} @ {}", printable(me.name.as_str()), me.endpoint),
        None => String::new(),
    };
    let state = match model.connection() {
        Connection::LoggingIn => "logging in".to_owned(),
        Connection::Online => "online".to_owned(),
        Connection::Reconnecting { attempt } => {
            format!("server away, reconnecting (attempt {attempt}); chat goes on")
        }
        Connection::LoggingOut => "logging out".to_owned(),
        Connection::Ended(how) => how.clone(),
    };
    let text = format!(" {state}{me} | server {}", model.server());
    let style = Style::new().add_modifier(Modifier::REVERSED);
    frame.render_widget(Paragraph::new(text).style(style), area);
}

fn draw_contacts(frame: &mut Frame<'_>, model: &Model, now: Instant, area: Rect) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let title = format!("Online ({})", model.online_count());
    let (block, inner) = framed(area, title, model.focus() == Focus::Contacts);
    let selected = model.selected().map(Contact::name);
    let columns = usize::from(inner.width);
    let lines: Vec<Line<'static>> = model
        .contacts()
        .iter()
        .map(|contact| contact_line(contact, selected == Some(contact.name()), now, columns))
        .collect();
    // Keep the selected contact in view on a long list.
    let rows = usize::from(inner.height);
    let position = model
        .contacts()
        .iter()
        .position(|c| Some(c.name()) == selected)
        .unwrap_or(0);
    let skip = (position + 1).saturating_sub(rows);
    let shown: Vec<Line<'static>> = lines.into_iter().skip(skip).collect();
    if let Some(block) = block {
        frame.render_widget(block, area);
    }
    frame.render_widget(Paragraph::new(shown), inner);
}

fn contact_line(contact: &Contact, selected: bool, now: Instant, columns: usize) -> Line<'static> {
    let fresh = contact.is_fresh(now);
    let name = printable(contact.name().as_str());
    let mut suffix = String::new();
    match contact.presence() {
        Presence::Gone => suffix.push_str(" (gone)"),
        Presence::Online if fresh => suffix.push_str(" (new)"),
        Presence::Online => {}
    }
    if contact.presence() == Presence::Online && contact.path() == Some(Via::Relay) {
        suffix.push_str(" (relay)");
    }
    if contact.unread() > 0 {
        suffix.push_str(&format!(" [{}]", contact.unread()));
    }
    // We are marked "(you)" where that fits, else by a `*` before the name.
    let marker = if selected { ">" } else { " " };
    let marker = if contact.is_me() {
        if 1 + width(&name) + width(" (you)") <= columns {
            suffix.insert_str(0, " (you)");
            " "
        } else {
            "*"
        }
    } else {
        marker
    };
    let room = columns.saturating_sub(1 + width(&suffix));
    let name = truncate(&name, room.max(1));
    let mut style = Style::new();
    if contact.presence() == Presence::Gone {
        style = style.fg(Color::DarkGray);
    } else if fresh {
        style = style.fg(Color::Green).add_modifier(Modifier::BOLD);
    }
    if contact.unread() > 0 {
        style = style.add_modifier(Modifier::BOLD);
    }
    if selected {
        style = style.add_modifier(Modifier::REVERSED);
    }
    Line::from(Span::styled(format!("{marker}{name}{suffix}"), style))
}

fn draw_conversation(frame: &mut Frame<'_>, model: &Model, area: Rect) -> Viewport {
    let contact = model.selected();
    let title = match contact {
        Some(c) if c.presence() == Presence::Gone => {
            format!("{} (gone)", printable(c.name().as_str()))
        }
        Some(c) => match c.path() {
            Some(Via::Direct) => format!("{} · direct", printable(c.name().as_str())),
            Some(Via::Relay) => format!("{} · relayed by the server", printable(c.name().as_str())),
            None => printable(c.name().as_str()),
        },
        None => "no conversation".to_owned(),
    };
    let (block, inner) = framed(area, title, false);
    let columns = usize::from(inner.width);
    let mut lines: Vec<Line<'static>> = Vec::new();
    match contact {
        Some(contact) => {
            // A line with the day wherever it changes: the history spans days, this run is today.
            let mut day: Option<Option<&str>> = None;
            for entry in contact.entries() {
                let this = entry.day.as_deref();
                if day.is_some_and(|d| d != this) || (day.is_none() && this.is_some()) {
                    lines.push(day_separator(this.unwrap_or("today"), columns));
                }
                day = Some(this);
                entry_lines(entry, contact, columns, &mut lines);
            }
            if lines.is_empty() {
                lines.push(Line::styled(
                    "no messages yet",
                    Style::new().fg(Color::DarkGray),
                ));
            }
        }
        None => lines.push(Line::styled(
            "nobody else is online yet",
            Style::new().fg(Color::DarkGray),
        )),
    }
    let page = usize::from(inner.height);
    let max_scroll = lines.len().saturating_sub(page);
    let scroll = model.scroll().min(max_scroll);
    let start = lines.len().saturating_sub(page + scroll);
    let shown: Vec<Line<'static>> = lines.into_iter().skip(start).take(page).collect();
    if let Some(mut block) = block {
        if scroll > 0 {
            block = block.title_bottom(format!(" {scroll} more lines below (PgDn) "));
        }
        frame.render_widget(block, area);
    }
    frame.render_widget(Paragraph::new(shown), inner);
    Viewport { page, max_scroll }
}

/// `── 2026-12-06 ──`, centred in `columns`.
fn day_separator(day: &str, columns: usize) -> Line<'static> {
    let label = format!(" {day} ");
    let side = columns.saturating_sub(width(&label)) / 2;
    let rule = "─".repeat(side);
    Line::styled(
        format!("{rule}{label}{rule}"),
        Style::new().fg(Color::DarkGray),
    )
}

/// One conversation entry as screen lines: time, a delivery mark for ours, who, then the text
/// wrapped under itself (or from the left edge when the column is too narrow for that).
fn entry_lines(entry: &Entry, contact: &Contact, columns: usize, out: &mut Vec<Line<'static>>) {
    let (mark, mark_style, who, text, who_style) = match &entry.kind {
        EntryKind::Theirs(text) => (
            " ",
            Style::new(),
            format!("{}: ", printable(contact.name().as_str())),
            printable(text),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        EntryKind::Mine { text, delivery, .. } => {
            let (mark, style, text) = match delivery {
                Delivery::Pending(_) => ("⋯", Style::new().fg(Color::DarkGray), printable(text)),
                Delivery::Queued(_) => ("⌛", Style::new().fg(Color::DarkGray), printable(text)),
                Delivery::Sent(_) => ("›", Style::new().fg(Color::DarkGray), printable(text)),
                Delivery::Delivered => ("✓", Style::new().fg(Color::Green), printable(text)),
                Delivery::Failed(why) => (
                    "✗",
                    Style::new().fg(Color::Red),
                    format!("{} [not delivered: {}]", printable(text), printable(why)),
                ),
            };
            (
                mark,
                style,
                "you: ".to_owned(),
                text,
                Style::new().add_modifier(Modifier::BOLD),
            )
        }
        EntryKind::Notice(text) => (
            "-",
            Style::new().fg(Color::DarkGray),
            String::new(),
            printable(text),
            Style::new(),
        ),
    };
    let time = format!("{} ", printable(&entry.time));
    let lead = format!("{time}{mark} ");
    let indent = if columns >= width(&lead) + 10 {
        width(&lead)
    } else {
        0
    };
    let rest_room = columns.saturating_sub(indent);
    let first_room = columns.saturating_sub(width(&lead) + width(&who));
    let text_style = match entry.kind {
        EntryKind::Notice(_) => Style::new().fg(Color::DarkGray),
        _ => Style::new(),
    };
    let mut header = vec![
        Span::styled(time, Style::new().fg(Color::DarkGray)),
        Span::styled(format!("{mark} "), mark_style),
        Span::styled(who, who_style),
    ];
    // Too little room after the header (a narrow column, a long name): the text starts below.
    let wrapped = if first_room < MIN_TEXT_AFTER_HEADER.min(rest_room) {
        out.push(Line::from(header));
        header = vec![Span::raw(" ".repeat(indent))];
        wrap(&text, rest_room, rest_room)
    } else {
        wrap(&text, first_room, rest_room)
    };
    for piece in wrapped {
        let mut spans = std::mem::replace(&mut header, vec![Span::raw(" ".repeat(indent))]);
        spans.push(Span::styled(piece, text_style));
        out.push(Line::from(spans));
    }
}

fn draw_input(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let title = match model.selected() {
        Some(c) if c.presence() == Presence::Gone => {
            format!("to {} (gone)", printable(c.name().as_str()))
        }
        Some(c) => format!("to {}", printable(c.name().as_str())),
        None => "message".to_owned(),
    };
    let focused = model.focus() == Focus::Input;
    let (block, inner) = framed(area, title, focused);
    let (prompt, inner) = match block {
        Some(block) => {
            frame.render_widget(block, area);
            ("", inner)
        }
        None => ("> ", inner),
    };
    let input = model.input();
    let room = usize::from(inner.width)
        .saturating_sub(width(prompt))
        .saturating_sub(1);
    // Show the end of the text before the cursor, then whatever follows it that fits.
    let before = printable(input.before_cursor());
    let visible_before = tail(&before, room);
    let after = printable(
        input
            .text()
            .get(input.before_cursor().len()..)
            .unwrap_or(""),
    );
    let line = format!("{prompt}{visible_before}{after}");
    frame.render_widget(Paragraph::new(line), inner);
    if focused {
        let offset = width(prompt) + width(visible_before);
        let x = inner
            .x
            .saturating_add(u16::try_from(offset).unwrap_or(u16::MAX));
        if x < inner.right() {
            frame.set_cursor_position(Position::new(x, inner.y));
        }
    }
}

fn draw_hint(frame: &mut Frame<'_>, model: &Model, area: Rect) {
    if area.height == 0 {
        return;
    }
    let (text, style) = match model.notice() {
        Some(notice) => (printable(notice), Style::new().fg(Color::Yellow)),
        None => {
            let hint = match model.focus() {
                Focus::Input => {
                    "Esc quit | Enter send | Tab contacts | Up/Down history | PgUp/PgDn scroll"
                }
                Focus::Contacts => {
                    "Esc quit | Up/Down pick a contact | Enter or Tab back to typing"
                }
            };
            (hint.to_owned(), Style::new().fg(Color::DarkGray))
        }
    };
    frame.render_widget(Paragraph::new(format!(" {text}")).style(style), area);
}

#[cfg(test)]
mod tests;
