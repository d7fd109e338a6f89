//! "Did you mean" suggestions: the closest candidate by edit distance
//! (adjacent transpositions count as one edit, so `verison` is one edit
//! away from `version`).

/// Optimal-string-alignment distance between `a` and `b`, case-sensitive.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, slot) in d.iter_mut().enumerate().take(width) {
        *slot = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// The candidate closest to `word`, if any is close enough to be a likely
/// typo: a case-insensitive match, or at most a third of the word's length
/// in edits (at least one, at most three). Ties go to the earlier candidate.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let d = if candidate.to_lowercase() == lower {
            0
        } else {
            distance(word, candidate)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transposition_is_one_edit() {
        assert_eq!(distance("verison", "version"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_prefers_the_nearest_and_ignores_far_words() {
        let words = ["version", "platform", "goVersion"];
        assert_eq!(closest("verison", words), Some("version"));
        assert_eq!(closest("k8s", ["K8s", "GPU"]), Some("K8s"));
        assert_eq!(closest("banana", words), None);
    }
}
