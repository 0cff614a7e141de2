//! Operating-system facts: the OS release and the system package managers' databases
//! (dpkg, apk; rpm lives in [`crate::rpm`]).

pub mod apk;
pub mod control;
pub mod dpkg;

use crate::layers::FileSet;
use crate::package::OsRelease;

/// The os-release files, in the order they are consulted (`os-release(5)`).
pub const OS_RELEASE_PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// Older images without os-release.
const FALLBACK_PATHS: [&str; 2] = ["etc/alpine-release", "etc/debian_version"];

/// Whether an OS cataloger needs the content of the file at `path`.
pub fn wants(path: &str) -> bool {
    OS_RELEASE_PATHS.contains(&path)
        || FALLBACK_PATHS.contains(&path)
        || dpkg::wants(path)
        || apk::wants(path)
}

/// The image's OS release: `etc/os-release`, else `usr/lib/os-release` (symlinks followed
/// inside the image), else what `etc/alpine-release` or `etc/debian_version` says.
pub fn os_release(files: &FileSet) -> Option<OsRelease> {
    for path in OS_RELEASE_PATHS {
        if let Some(os) = files
            .contents(path)
            .and_then(|c| OsRelease::parse(&String::from_utf8_lossy(c)))
        {
            return Some(os);
        }
    }
    if let Some(c) = files.contents("etc/alpine-release") {
        let v = String::from_utf8_lossy(c).trim().to_owned();
        if !v.is_empty() && v.len() < 64 {
            return Some(OsRelease {
                id: "alpine".into(),
                version_id: Some(v),
                name: Some("Alpine Linux".into()),
                ..OsRelease::default()
            });
        }
    }
    if let Some(c) = files.contents("etc/debian_version") {
        let v = String::from_utf8_lossy(c).trim().to_owned();
        if !v.is_empty() && v.len() < 64 {
            // "12.4" → VERSION_ID 12; "bookworm/sid" (testing) has none.
            let major = v.split('.').next().unwrap_or("");
            let version_id = major
                .chars()
                .all(|c| c.is_ascii_digit())
                .then(|| major.to_owned())
                .filter(|m| !m.is_empty());
            return Some(OsRelease {
                id: "debian".into(),
                version_id,
                name: Some("Debian GNU/Linux".into()),
                ..OsRelease::default()
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_order_and_fallbacks() {
        let mut fs = FileSet::default();
        fs.insert_file(
            "usr/lib/os-release",
            0o644,
            "ID=debian\nVERSION_ID=\"12\"\n",
        );
        fs.insert_symlink("etc/os-release", "../usr/lib/os-release");
        let os = os_release(&fs).unwrap();
        assert_eq!(
            (os.id.as_str(), os.version_id.as_deref()),
            ("debian", Some("12"))
        );

        let mut fs = FileSet::default();
        fs.insert_file("etc/alpine-release", 0o644, "3.10.4\n");
        let os = os_release(&fs).unwrap();
        assert_eq!(
            (os.id.as_str(), os.version_id.as_deref()),
            ("alpine", Some("3.10.4"))
        );

        let mut fs = FileSet::default();
        fs.insert_file("etc/debian_version", 0o644, "9.13\n");
        assert_eq!(os_release(&fs).unwrap().version_id.as_deref(), Some("9"));
        assert_eq!(os_release(&FileSet::default()), None);
    }
}
