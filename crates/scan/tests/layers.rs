//! Applying layers: whiteouts, links, compression, and hostile input.

use std::io::Write;

use scan::{analyze, catalog, EntryKind, EntryMeta, FileSet, Limits, ScanError};

/// One tar entry of a synthetic layer.
enum E<'a> {
    File(&'a str, &'a [u8]),
    Exec(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A regular file whose name is written into the header as is (no validation).
    RawName(&'a [u8], &'a [u8]),
}

fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(0);
        match e {
            E::File(p, data) | E::Exec(p, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(if matches!(e, E::Exec(..)) {
                    0o755
                } else {
                    0o644
                });
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, *data).unwrap();
            }
            E::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            E::Symlink(p, t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Hardlink(p, t) => {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::RawName(name, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn run(layers: &[Vec<u8>], limits: &Limits) -> Result<FileSet, ScanError> {
    analyze(layers.iter().map(|l| &l[..]), &scan::wanted, limits)
}

fn paths(fs: &FileSet) -> Vec<&str> {
    fs.paths().collect()
}

const STATUS_AB: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1\n\n\
                          Package: b\nStatus: install ok installed\nVersion: 1\n";
const STATUS_A2: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 2\n";
const APK: &[u8] = b"P:musl\nV:1.2.3-r0\no:musl\nA:x86_64\n";
const METADATA: &[u8] = b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n";

#[test]
fn whiteouts_and_opaque_directories_across_three_layers() {
    let base = layer(&[
        E::Dir("etc"),
        E::File("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        E::File("var/lib/dpkg/status", STATUS_AB),
        E::File("lib/apk/db/installed", APK),
        E::File("usr/lib/py/foo-1.0.dist-info/METADATA", METADATA),
        E::File("opt/app/keep.txt", b"keep"),
        E::File("opt/app/old/x.txt", b"x"),
        E::File("opt/app/old/y.txt", b"y"),
        E::File("data/dir/a", b"a"),
        E::File("data/dir/sub/b", b"b"),
        E::File("data/re/old", b"old"),
    ]);
    let middle = layer(&[
        // The apk database is deleted: its packages must not be reported.
        E::File("lib/apk/db/.wh.installed", b""),
        // An opaque directory: the lower layers' contents disappear, this layer's stay.
        E::File("data/dir/.wh..wh..opq", b""),
        E::File("data/dir/new", b"new"),
        // A whited-out directory goes with everything under it.
        E::File("opt/app/.wh.old", b""),
        // A whiteout never removes what its own layer adds.
        E::File("opt/app/fresh", b"f"),
        E::File("opt/app/.wh.fresh", b""),
        // A directory whited out and re-created by the same layer (in either order): only
        // this layer's contents remain.
        E::Dir("data/re"),
        E::File("data/re/mine", b"mine"),
        E::File("data/.wh.re", b""),
        // Whiteouts of things that never existed are harmless.
        E::File("nowhere/.wh.nothing", b""),
    ]);
    let top = layer(&[
        E::File("usr/lib/py/.wh.foo-1.0.dist-info", b""),
        E::File("var/lib/dpkg/status", STATUS_A2),
        // Re-created after a whiteout below: present again.
        E::File("opt/app/old/z.txt", b"z"),
    ]);
    let fs = run(&[base, middle, top], &Limits::default()).unwrap();
    assert!(fs.warnings().is_empty(), "{:?}", fs.warnings());
    assert_eq!(
        paths(&fs),
        [
            "data",
            "data/dir",
            "data/dir/new",
            "data/re",
            "data/re/mine",
            "etc",
            "etc/os-release",
            "lib",
            "lib/apk",
            "lib/apk/db",
            "nowhere",
            "opt",
            "opt/app",
            "opt/app/fresh",
            "opt/app/keep.txt",
            "opt/app/old",
            "opt/app/old/z.txt",
            "usr",
            "usr/lib",
            "usr/lib/py",
            "var",
            "var/lib",
            "var/lib/dpkg",
            "var/lib/dpkg/status",
        ]
    );
    // Only the last layer's version of a wanted file is kept.
    assert_eq!(fs.contents("var/lib/dpkg/status"), Some(STATUS_A2));
    // Unwanted files are listed without content.
    assert_eq!(fs.get("opt/app/keep.txt").unwrap().content(), None);
    let cat = catalog(&fs);
    let got: Vec<_> = cat
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(got, [("a", "2")]);
    assert_eq!(cat.os.unwrap().id, "debian");
}

#[test]
fn a_file_replaces_a_directory_and_links_resolve_inside_the_image() {
    let base = layer(&[
        E::File("usr/lib/os-release", b"ID=alpine\nVERSION_ID=3.19.0\n"),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        E::File("srv/tree/a", b"a"),
        E::Exec("usr/bin/tool", &[0x7f; 4096]),
        E::Hardlink("usr/bin/tool-alias", "usr/bin/tool"),
        E::Hardlink("usr/bin/dangling", "usr/bin/missing"),
        // usrmerge: a symlinked directory; a later entry under it lands in the target.
        E::Symlink("lib", "usr/lib"),
        E::File("lib/apk/db/installed", APK),
    ]);
    let top = layer(&[E::File("srv/tree", b"now a file")]);
    let fs = run(&[base, top], &Limits::default()).unwrap();
    assert_eq!(fs.get("srv/tree").unwrap().meta.kind, EntryKind::File);
    assert!(!fs.contains("srv/tree/a"));
    assert_eq!(fs.resolve("etc/os-release"), Some("usr/lib/os-release"));
    assert_eq!(
        catalog(&fs).os.unwrap().version_id.as_deref(),
        Some("3.19.0")
    );
    // The hard link is a copy of its target's node, content included.
    let alias = fs.get("usr/bin/tool-alias").unwrap();
    assert_eq!(alias.meta.kind, EntryKind::File);
    assert_eq!(alias.content().map(<[u8]>::len), Some(4096));
    assert!(!fs.contains("usr/bin/dangling"));
    assert!(fs.warnings().iter().any(|w| w.contains("usr/bin/dangling")));
    // Under the `lib` symlink: stored at the resolved path.
    assert_eq!(fs.get("lib").unwrap().meta.kind, EntryKind::Symlink);
    assert!(fs.contains("usr/lib/apk/db/installed"));
    assert_eq!(fs.contents("lib/apk/db/installed"), Some(APK));
}

#[test]
fn zstd_and_gzip_layers_in_one_image() {
    let base = gzip(&layer(&[E::File("var/lib/dpkg/status", STATUS_AB)]));
    let top = zstd(&layer(&[E::File("etc/os-release", b"ID=debian\n")]));
    let fs = run(&[base, top], &Limits::default()).unwrap();
    assert_eq!(catalog(&fs).packages.len(), 2);
    assert!(fs.contains("etc/os-release"));
}

#[test]
fn zstd_multiple_frames_and_skippable_frames() {
    let tar = layer(&[
        E::File("var/lib/dpkg/status", STATUS_AB),
        E::File("etc/os-release", b"ID=debian\n"),
    ]);
    let (a, b) = tar.split_at(1000);
    let mut stream = Vec::new();
    // A skippable frame first (magic 0x184D2A50), as zstd:chunked writes metadata.
    stream.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    stream.extend(zstd(a));
    stream.extend_from_slice(&[0x5e, 0x2a, 0x4d, 0x18, 0, 0, 0, 0]);
    stream.extend(zstd(b));
    let fs = run(&[stream], &Limits::default()).unwrap();
    assert_eq!(fs.contents("etc/os-release"), Some(&b"ID=debian\n"[..]));
    assert_eq!(catalog(&fs).packages.len(), 2);
}

#[test]
fn gzip_bomb_is_refused() {
    let bomb = gzip(&layer(&[E::File("zeros", &vec![0u8; 10 << 20])]));
    assert!(bomb.len() < 100 << 10, "{}", bomb.len());
    let limits = Limits {
        max_layer_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = run(&[bomb], &limits).unwrap_err();
    assert!(
        matches!(err, ScanError::LayerTooLarge { layer: 0, limit } if limit == 1 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("exceeds the limit"), "{err}");

    // The image-wide cap adds the layers up.
    let half = gzip(&layer(&[E::File("half", &vec![0u8; 600 << 10])]));
    let limits = Limits {
        max_image_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = run(&[half.clone(), half], &limits).unwrap_err();
    assert!(
        matches!(err, ScanError::ImageTooLarge { layer: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn zeros_after_the_end_of_archive_still_count() {
    // A valid empty tar followed by 10 MiB of zeros inside the compressed stream.
    let mut data = layer(&[]);
    data.extend(vec![0u8; 10 << 20]);
    let limits = Limits {
        max_layer_bytes: 1 << 20,
        ..Limits::default()
    };
    for stream in [gzip(&data), zstd(&data)] {
        let err = run(&[stream], &limits).unwrap_err();
        assert!(matches!(err, ScanError::LayerTooLarge { .. }), "{err:?}");
    }
}

#[test]
fn paths_escaping_the_root_do_not_escape() {
    let l = layer(&[
        E::RawName(b"../../etc/passwd", b"root:x:0:0"),
        E::RawName(b"/abs/path", b"abs"),
        E::RawName(b"a/../../b", b"b"),
        E::RawName(b"./ok/../fine", b"fine"),
        // A symlink pointing far above the root resolves at the root, inside the image.
        E::Symlink("up", "../../../../../../.."),
        E::RawName(b"up/etc/shadow", b"s"),
    ]);
    let fs = run(&[l], &Limits::default()).unwrap();
    assert_eq!(
        paths(&fs),
        ["abs", "abs/path", "etc", "etc/shadow", "fine", "up"]
    );
    assert!(!fs.contains("etc/passwd"));
    let escapes = fs
        .warnings()
        .iter()
        .filter(|w| w.contains("escapes the root"))
        .count();
    assert_eq!(escapes, 2, "{:?}", fs.warnings());
}

#[test]
fn symlink_loops_do_not_hang() {
    let l = layer(&[
        E::Symlink("a", "b"),
        E::Symlink("b", "a"),
        E::Symlink("self", "self/x"),
        E::RawName(b"a/file", b"x"),
        E::RawName(b"self/file", b"x"),
        E::File("etc/os-release", b"ID=x\n"),
        E::Symlink("usr/lib/os-release", "../../usr/lib/os-release"),
    ]);
    let started = std::time::Instant::now();
    let fs = run(&[l], &Limits::default()).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(fs.resolve("a"), None);
    assert_eq!(fs.resolve("self/x/y"), None);
    assert_eq!(fs.contents("usr/lib/os-release"), None);
    assert!(!fs.contains("a/file") && !fs.contains("b/file"));
    assert_eq!(
        fs.warnings()
            .iter()
            .filter(|w| w.contains("symlink loop"))
            .count(),
        2,
        "{:?}",
        fs.warnings()
    );
}

#[test]
fn deep_and_long_paths_are_skipped() {
    let deep = vec!["d"; 300].join("/") + "/file";
    let long_name = "n".repeat(5000);
    let l = layer(&[
        E::File(&deep, b"deep"),
        E::File(&long_name, b"long"),
        E::File("ok", b"ok"),
    ]);
    let fs = run(&[l], &Limits::default()).unwrap();
    assert_eq!(paths(&fs), ["ok"]);
    assert!(
        fs.warnings().iter().any(|w| w.contains("too deep")),
        "{:?}",
        fs.warnings()
    );
    assert!(
        fs.warnings().iter().any(|w| w.contains("too long")),
        "{:?}",
        fs.warnings()
    );
}

#[test]
fn truncated_streams_are_errors() {
    let tar = layer(&[
        E::File("var/lib/dpkg/status", &[b'x'; 5000]),
        E::File("b", b"b"),
    ]);
    let gz = gzip(&tar);
    for (what, stream) in [
        ("gzip", gz[..gz.len() / 2].to_vec()),
        ("gzip without trailer", gz[..gz.len() - 4].to_vec()),
        ("tar in data", tar[..2000].to_vec()),
        ("tar in header", tar[..300].to_vec()),
        ("zstd", zstd(&tar)[..200].to_vec()),
    ] {
        let err = run(&[stream], &Limits::default()).unwrap_err();
        assert!(
            matches!(err, ScanError::Truncated { layer: 0 }),
            "{what}: {err:?}"
        );
    }
    // Garbage is not a tar.
    let err = run(&[vec![b'z'; 4096]], &Limits::default()).unwrap_err();
    assert!(matches!(err, ScanError::Malformed { .. }), "{err:?}");
    // Recognized but unsupported compressions are named.
    let err = run(&[b"\xfd7zXZ\x00rest".to_vec()], &Limits::default()).unwrap_err();
    assert!(
        matches!(err, ScanError::UnsupportedCompression { format: "xz", .. }),
        "{err:?}"
    );
}

#[test]
fn entry_count_and_metadata_caps() {
    let many: Vec<String> = (0..50).map(|i| format!("f{i}")).collect();
    let entries: Vec<E> = many.iter().map(|p| E::File(p, b"")).collect();
    let limits = Limits {
        max_entries: 20,
        ..Limits::default()
    };
    let err = run(&[layer(&entries)], &limits).unwrap_err();
    assert!(
        matches!(err, ScanError::TooManyEntries { limit: 20, .. }),
        "{err:?}"
    );

    // A PAX header claiming 1 GiB of records is refused before anything is read.
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_path("pax").unwrap();
    h.set_size(1 << 30);
    h.set_cksum();
    let mut stream = h.as_bytes().to_vec();
    stream.extend(vec![0u8; 4096]);
    let err = run(&[stream], &Limits::default()).unwrap_err();
    assert!(matches!(err, ScanError::Malformed { .. }), "{err:?}");
}

#[test]
fn big_wanted_files_are_listed_without_content() {
    let big = vec![b'x'; 64 << 10];
    let l = layer(&[
        E::File("var/lib/dpkg/status", &big),
        E::File("lib/apk/db/installed", APK),
    ]);
    let limits = Limits {
        max_file_bytes: 32 << 10,
        ..Limits::default()
    };
    let fs = run(std::slice::from_ref(&l), &limits).unwrap();
    assert!(fs.contains("var/lib/dpkg/status"));
    assert_eq!(fs.contents("var/lib/dpkg/status"), None);
    assert_eq!(fs.contents("lib/apk/db/installed"), Some(APK));
    assert!(fs.warnings().iter().any(|w| w.contains("per-file limit")));
    // And the cap on all kept contents.
    let limits = Limits {
        max_content_bytes: 16,
        ..Limits::default()
    };
    let fs = run(&[l], &limits).unwrap();
    assert_eq!(fs.contents("lib/apk/db/installed"), None);
}

#[test]
fn the_predicate_sees_final_paths_and_metadata() {
    let l = layer(&[
        E::Exec("usr/local/bin/app", &[1; 2048]),
        E::File("usr/local/bin/data", &[1; 2048]),
        E::Symlink("bin", "usr/local/bin"),
        E::File("bin/via-link", b"x"),
    ]);
    let seen = std::cell::RefCell::new(Vec::new());
    let wanted = |p: &str, m: &EntryMeta| {
        seen.borrow_mut()
            .push((p.to_owned(), m.is_executable(), m.size));
        true
    };
    let fs = analyze([&l[..]], &wanted, &Limits::default()).unwrap();
    assert_eq!(
        *seen.borrow(),
        [
            ("usr/local/bin/app".to_owned(), true, 2048),
            ("usr/local/bin/data".to_owned(), false, 2048),
            ("usr/local/bin/via-link".to_owned(), false, 1),
        ]
    );
    assert_eq!(fs.contents("bin/via-link"), Some(&b"x"[..]));
}

#[test]
fn root_directories_are_read_without_following_links() {
    let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("from-dir-root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("var/lib/dpkg/status"), STATUS_AB).unwrap();
    std::fs::write(root.join("etc/os-release"), "ID=debian\n").unwrap();
    // Links pointing out of the root are recorded, not followed.
    std::os::unix::fs::symlink("/etc", root.join("hostetc")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("etc/hostname")).unwrap();
    std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
    // A FIFO where a database should be: never opened (it would block).
    let fifo = std::ffi::CString::new(root.join("lib-apk-fifo").to_str().unwrap()).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    let fifo_db =
        std::ffi::CString::new(root.join("lib/apk/db/installed").to_str().unwrap()).unwrap();
    unsafe {
        assert_eq!(libc::mkfifo(fifo.as_ptr(), 0o644), 0);
        assert_eq!(libc::mkfifo(fifo_db.as_ptr(), 0o644), 0);
    }
    let fs = FileSet::from_dir(&root, &scan::wanted, &Limits::default()).unwrap();
    assert_eq!(fs.get("hostetc").unwrap().meta.kind, EntryKind::Symlink);
    assert_eq!(
        fs.get("hostetc").unwrap().link_target.as_deref(),
        Some("/etc")
    );
    assert!(!fs.paths().any(|p| p.starts_with("hostetc/")));
    // Resolving `/etc/hostname` stays inside the set (where nothing is).
    assert_eq!(fs.contents("etc/hostname"), None);
    assert_eq!(fs.resolve("loop"), None);
    assert_eq!(
        fs.get("lib/apk/db/installed").unwrap().meta.kind,
        EntryKind::Other
    );
    let cat = catalog(&fs);
    assert_eq!(cat.packages.len(), 2);
    assert_eq!(cat.os.unwrap().id, "debian");

    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    assert!(matches!(
        FileSet::from_dir(&root, &scan::wanted, &limits),
        Err(ScanError::DirTooLarge { limit: 3, .. })
    ));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn mutated_layers_never_panic() {
    let tar = layer(&[
        E::File("var/lib/dpkg/status", STATUS_AB),
        E::Symlink("etc/os-release", "../usr/lib/os-release"),
        E::File("usr/lib/os-release", b"ID=debian\n"),
        E::Hardlink("usr/lib/os-release2", "usr/lib/os-release"),
        E::File("opt/.wh..wh..opq", b""),
        E::File(&format!("{}/deep", "long".repeat(40)), b"x"),
    ]);
    let limits = Limits {
        max_layer_bytes: 4 << 20,
        ..Limits::default()
    };
    // A small deterministic generator (xorshift) for positions and values.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for base in [tar.clone(), gzip(&tar), zstd(&tar)] {
        for _ in 0..300 {
            let mut m = base.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % m.len() as u64) as usize;
                m[i] = next() as u8;
            }
            if next() % 5 == 0 {
                m.truncate((next() % m.len() as u64) as usize);
            }
            // Ok or a refusal: either way, no panic and no hang.
            if let Ok(fs) = run(&[m], &limits) {
                let _ = catalog(&fs);
            }
        }
    }
}
