//! Which manifests and blobs a run removes, decided from snapshots of the database. Pure, so
//! a dry run and a real run make the same plan from the same state.

use meta::{GcBlob, GcManifest};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Untagged manifests to delete (Harbor's "delete untagged artifacts"): no tag, pushed before
/// `cutoff`, not listed by a surviving index in the same repository, and not a referrer of a
/// surviving manifest there (signatures, SBOMs and other accessories live as long as their
/// subject). Deleting an index can free its children, and deleting a subject its referrers,
/// so this goes in rounds: a round's manifests depend only on earlier rounds' being gone, and
/// deleting the rounds in order lets each delete's re-check pass.
pub fn untagged(
    manifests: &[GcManifest],
    children: &[(i64, String)],
    cutoff: i64,
) -> Vec<Vec<i64>> {
    let by_id: HashMap<i64, &GcManifest> = manifests.iter().map(|m| (m.id, m)).collect();
    // (repository, digest) -> ids of the indexes there that list it
    let mut parents: HashMap<(i64, &str), Vec<i64>> = HashMap::new();
    for (parent, child) in children {
        if let Some(p) = by_id.get(parent) {
            parents
                .entry((p.repository_id, child.as_str()))
                .or_default()
                .push(*parent);
        }
    }
    let mut doomed: HashSet<i64> = HashSet::new();
    let mut rounds = Vec::new();
    // Each round removes at least one manifest or ends the loop, so rounds are bounded.
    loop {
        // A digest is present in a repository while any manifest row of it survives there.
        let alive: HashSet<(i64, &str)> = manifests
            .iter()
            .filter(|m| !doomed.contains(&m.id))
            .map(|m| (m.repository_id, m.digest.as_str()))
            .collect();
        let mut round: Vec<i64> = manifests
            .iter()
            .filter(|m| !doomed.contains(&m.id) && !m.tagged && m.pushed_at < cutoff)
            .filter(|m| {
                let listed = parents
                    .get(&(m.repository_id, m.digest.as_str()))
                    .is_some_and(|ps| ps.iter().any(|p| !doomed.contains(p)));
                let subject_alive = m
                    .subject
                    .as_deref()
                    .is_some_and(|s| alive.contains(&(m.repository_id, s)));
                !listed && !subject_alive
            })
            .map(|m| m.id)
            .collect();
        if round.is_empty() {
            break;
        }
        round.sort_unstable();
        doomed.extend(&round);
        rounds.push(round);
    }
    rounds
}

/// Blobs to delete: those no manifest references (from the database), plus those only the
/// doomed manifests reference, untouched since `cutoff`. Sorted by digest.
pub fn blobs(
    unreferenced: Vec<GcBlob>,
    doomed: &HashSet<i64>,
    users: &[(String, i64)],
    rows: Vec<GcBlob>,
    cutoff: i64,
) -> Vec<GcBlob> {
    let mut still_used: HashSet<&str> = HashSet::new();
    for (digest, manifest) in users {
        if !doomed.contains(manifest) {
            still_used.insert(digest.as_str());
        }
    }
    let mut out: BTreeMap<String, GcBlob> = unreferenced
        .into_iter()
        .map(|b| (b.digest.clone(), b))
        .collect();
    for b in rows {
        if !still_used.contains(b.digest.as_str()) && (b.state == 2 || b.touched_at < cutoff) {
            out.entry(b.digest.clone()).or_insert(b);
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64, repo: i64, digest: &str, tagged: bool) -> GcManifest {
        GcManifest {
            id,
            repository_id: repo,
            repository: format!("r{repo}"),
            digest: digest.into(),
            subject: None,
            size: 10,
            pushed_at: 0,
            tagged,
        }
    }

    #[test]
    fn untagged_index_goes_with_its_untagged_children_but_not_tagged_ones() {
        let ms = vec![
            m(1, 1, "idx", false),
            m(2, 1, "amd", false),
            m(3, 1, "arm", true),
            m(4, 1, "tagged-idx", true),
            m(5, 1, "kept-child", false),
        ];
        let children = vec![
            (1, "amd".to_string()),
            (1, "arm".to_string()),
            (4, "kept-child".to_string()),
        ];
        assert_eq!(untagged(&ms, &children, 1), vec![vec![1], vec![2]]);
    }

    #[test]
    fn referrers_live_as_long_as_their_subject() {
        let mut sig = m(2, 1, "sig", false);
        sig.subject = Some("img".into());
        let mut orphan = m(3, 1, "orphan-sbom", false);
        orphan.subject = Some("gone".into());
        let mut sig_of_untagged = m(5, 1, "sig2", false);
        sig_of_untagged.subject = Some("old".into());
        let ms = vec![
            m(1, 1, "img", true),
            sig,
            orphan,
            m(4, 1, "old", false),
            sig_of_untagged,
        ];
        assert_eq!(untagged(&ms, &[], 1), vec![vec![3, 4], vec![5]]);
    }

    #[test]
    fn recent_manifests_and_other_repositories_are_spared() {
        let mut recent = m(1, 1, "new", false);
        recent.pushed_at = 100;
        // The same digest is an index's child in repository 2 only.
        let ms = vec![
            recent,
            m(2, 1, "child", false),
            m(3, 2, "idx", true),
            m(4, 2, "child", false),
        ];
        let children = vec![(3, "child".to_string())];
        assert_eq!(untagged(&ms, &children, 50), vec![vec![2]]);
    }

    #[test]
    fn blobs_used_by_a_surviving_manifest_stay() {
        let b = |d: &str, touched: i64| GcBlob {
            digest: d.into(),
            size: 1,
            touched_at: touched,
            state: 0,
        };
        let doomed: HashSet<i64> = [1].into();
        let users = vec![
            ("only-doomed".to_string(), 1),
            ("shared".to_string(), 1),
            ("shared".to_string(), 2),
            ("recent".to_string(), 1),
        ];
        let rows = vec![b("only-doomed", 0), b("shared", 0), b("recent", 99)];
        let plan = blobs(vec![b("loose", 0)], &doomed, &users, rows, 50);
        let names: Vec<&str> = plan.iter().map(|b| b.digest.as_str()).collect();
        assert_eq!(names, vec!["loose", "only-doomed"]);
    }
}
