//! Just enough Markdown to preview the weekly digest: headings, paragraphs,
//! bullet lists and pipe tables, with `code`, _emphasis_ and `[links](target)`
//! inside them. Anything else stays as text; nothing becomes raw HTML.

/// A piece of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `code`.
    Code(String),
    /// _emphasis_.
    Em(String),
    /// `[text](target)`.
    Link {
        /// What is shown.
        text: String,
        /// Where it points (`run:<id>` for the digest's evidence links).
        target: String,
    },
}

/// A block of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// `#`…`######`.
    Heading(u8, Vec<Inline>),
    /// Consecutive text lines.
    Paragraph(Vec<Inline>),
    /// Consecutive `- ` lines.
    List(Vec<Vec<Inline>>),
    /// A pipe table: header cells, then rows (the `---` line dropped).
    Table(Vec<Vec<Inline>>, Vec<Vec<Vec<Inline>>>),
}

/// Split one line into inlines.
pub fn inlines(line: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = line;
    let flush = |text: &mut String, out: &mut Vec<Inline>| {
        if !text.is_empty() {
            out.push(Inline::Text(std::mem::take(text)));
        }
    };
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        let closed = |end: char| after.find(end).filter(|&i| i > 0);
        match c {
            '`' | '_' if closed(c).is_some() => {
                let i = closed(c).unwrap_or_default();
                flush(&mut text, &mut out);
                let inner = after[..i].to_owned();
                out.push(if c == '`' {
                    Inline::Code(inner)
                } else {
                    Inline::Em(inner)
                });
                rest = &after[i + 1..];
            }
            '[' => {
                let link = after.find("](").and_then(|t| {
                    let target_from = t + 2;
                    after[target_from..]
                        .find(')')
                        .map(|e| (t, target_from, target_from + e))
                });
                match link {
                    Some((t, from, end)) => {
                        flush(&mut text, &mut out);
                        out.push(Inline::Link {
                            text: after[..t].to_owned(),
                            target: after[from..end].to_owned(),
                        });
                        rest = &after[end + 1..];
                    }
                    None => {
                        text.push(c);
                        rest = after;
                    }
                }
            }
            _ => {
                text.push(c);
                rest = after;
            }
        }
    }
    flush(&mut text, &mut out);
    out
}

fn cells(line: &str) -> Vec<&str> {
    line.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

fn is_rule(line: &str) -> bool {
    cells(line)
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

/// Parse `md` into blocks.
pub fn parse(md: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            i += 1;
        } else if let Some(level) = heading_level(trimmed) {
            let text = trimmed[usize::from(level)..].trim();
            blocks.push(Block::Heading(level, inlines(text)));
            i += 1;
        } else if trimmed.starts_with("- ") {
            let mut items = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with("- ") {
                items.push(inlines(lines[i].trim_start()[2..].trim()));
                i += 1;
            }
            blocks.push(Block::List(items));
        } else if trimmed.starts_with('|') {
            let mut rows: Vec<&str> = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                rows.push(lines[i]);
                i += 1;
            }
            let header = cells(rows[0]).into_iter().map(inlines).collect();
            let body = rows[1..]
                .iter()
                .filter(|r| !is_rule(r))
                .map(|r| cells(r).into_iter().map(inlines).collect())
                .collect();
            blocks.push(Block::Table(header, body));
        } else {
            let mut text = String::new();
            while i < lines.len() {
                let l = lines[i].trim();
                if l.is_empty()
                    || heading_level(l).is_some()
                    || l.starts_with("- ")
                    || l.starts_with('|')
                {
                    break;
                }
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(l);
                i += 1;
            }
            blocks.push(Block::Paragraph(inlines(&text)));
        }
    }
    blocks
}

fn heading_level(line: &str) -> Option<u8> {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    ((1..=6).contains(&hashes) && line[hashes..].starts_with(' ')).then_some(hashes as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn inline_code_emphasis_and_links() {
        assert_eq!(
            inlines("- at `budget_exceeded` stopped [r1](run:r1) _now_"),
            vec![
                text("- at "),
                Inline::Code("budget_exceeded".into()),
                text(" stopped "),
                Inline::Link {
                    text: "r1".into(),
                    target: "run:r1".into()
                },
                text(" "),
                Inline::Em("now".into()),
            ]
        );
        assert_eq!(
            inlines("snake_case and [x"),
            vec![text("snake_case and [x")]
        );
        assert_eq!(inlines(""), vec![]);
    }

    #[test]
    fn blocks_of_the_digest_template() {
        let md = "# Weekly digest — week ending 2026-11-25\n\n_Window: a to b._\n\n## Evidence\n\n- Events: 40\n- LLM calls: 9\n\n| Proposals | Votes |\n| ---: | ---: |\n| 3 | 4 |\n\nNone this\nweek.\n";
        let blocks = parse(md);
        assert_eq!(blocks.len(), 6, "{blocks:?}");
        assert_eq!(
            blocks[0],
            Block::Heading(1, vec![text("Weekly digest — week ending 2026-11-25")])
        );
        assert_eq!(
            blocks[1],
            Block::Paragraph(vec![Inline::Em("Window: a to b.".into())])
        );
        assert_eq!(blocks[2], Block::Heading(2, vec![text("Evidence")]));
        assert_eq!(
            blocks[3],
            Block::List(vec![vec![text("Events: 40")], vec![text("LLM calls: 9")]])
        );
        assert_eq!(
            blocks[4],
            Block::Table(
                vec![vec![text("Proposals")], vec![text("Votes")]],
                vec![vec![vec![text("3")], vec![text("4")]]]
            )
        );
        assert_eq!(blocks[5], Block::Paragraph(vec![text("None this week.")]));
    }
}
