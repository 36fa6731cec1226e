//! "Did you mean …?": the known name closest to an unknown one, by edit distance on characters (a
//! Hangul syllable is one character, so `정배얼` is one edit from `정배열`).

/// The candidate closest to `name`, if it is close enough: at most one edit for candidates of up to
/// four characters, two up to eight, three beyond, and fewer edits than `name` has characters. ASCII
/// letters compare without case and spaces are ignored (`이평선 돌파`). Among equally close
/// candidates, the one nearest in length wins (`30분붕` → `30분봉`, not `30분`), then the earlier one.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name: Vec<char> = normalized(name);
    if name.is_empty() {
        return None;
    }
    let mut best: Option<((usize, usize), &str)> = None;
    for candidate in candidates {
        let c = normalized(candidate);
        let allowed = match c.len() {
            0..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        // Too different in length to be within reach: skip without computing.
        if name.len().abs_diff(c.len()) > allowed {
            continue;
        }
        let d = distance(&name, &c);
        let key = (d, name.len().abs_diff(c.len()));
        if d <= allowed && d < name.len() && best.is_none_or(|(b, _)| key < b) {
            best = Some((key, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn normalized(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Levenshtein distance (insertions, deletions, substitutions), two rows.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> usize {
        distance(&normalized(a), &normalized(b))
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(d("정배얼", "정배열"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("CLOSE", "close"), 0);
        assert_eq!(d("이평선 돌파", "이평선돌파"), 0);
    }

    #[test]
    fn only_close_names_are_suggested() {
        let names = ["close", "low", "ma", "정배열", "역배열", "골든크로스"];
        assert_eq!(closest("정배얼", names), Some("정배열"));
        assert_eq!(closest("clsoe", names), Some("close"));
        assert_eq!(closest("골든크로", names), Some("골든크로스"));
        assert_eq!(closest("foo", names), None);
        assert_eq!(closest("x", names), None);
        assert_eq!(closest("", names), None);
    }
}
