//! `create <IMAGE> <ID>` from container images built in test code (OCI layout, oci-archive,
//! docker-archive, a name in the local store), run through the whole lifecycle on the
//! simulator, and every kind of bad or hostile image refused with a precise error and nothing
//! left behind.

mod common;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{names_in, reap, Out, Rt};
use hybrid_sim::firmware::Firmware;
use hybrid_sim::image::{
    blob_path, gzip, layer_tar, Entry, Format, Image, Layer, Written, LAYER_GZIP, LAYER_TAR,
    LAYER_ZSTD,
};

/// The runtime and simulator of tests/common, an image store, and extra environment.
struct T {
    rt: Rt,
    store: PathBuf,
    env: Vec<(String, String)>,
}

impl Deref for T {
    type Target = Rt;
    fn deref(&self) -> &Rt {
        &self.rt
    }
}

impl T {
    fn new(sim_args: &[&str]) -> T {
        let rt = Rt::new(sim_args);
        T {
            store: rt.sim.path("var/lib/hybrid-runtime/images"),
            rt,
            env: Vec::new(),
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.rt.run_env(args, &self.env)
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.code, 0, "{args:?} failed: {}", o.stderr);
        o.stdout
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }

    /// Write `img` as `name` under the work directory.
    fn write(&self, img: &Image, format: Format, name: &str) -> (String, Written) {
        let p = self.path(name);
        let w = img.write(format, &p).unwrap();
        (p.to_string_lossy().into_owned(), w)
    }

    /// Create from `image`, start, check it runs, stop it with SIGTERM (exit 143), delete, and
    /// check that nothing is left.
    fn lifecycle(&self, image: &str, id: &str) -> serde_json::Value {
        let pid_file = self.pid_file(id);
        let o = self.run(&[
            "create",
            "--pid-file",
            pid_file.to_str().unwrap(),
            image,
            id,
        ]);
        assert_eq!(o.code, 0, "create {image}: {}", o.stderr);
        let state = self.state(id);
        assert_eq!(state["status"], "created", "{state}");
        let rootfs = self.root.join(id).join("rootfs");
        assert!(
            rootfs.is_dir(),
            "image unpacked into the container's state dir"
        );
        self.ok(&["start", id]);
        assert_eq!(self.state(id)["status"], "running");
        assert_eq!(self.sim.state(0), "running");
        let pid = self.pid(id);
        self.ok(&["kill", id, "TERM"]);
        assert_eq!(
            reap(pid),
            Err(libc::SIGTERM),
            "exit status after SIGTERM (143)"
        );
        assert_eq!(self.state(id)["status"], "stopped");
        self.ok(&["delete", id]);
        self.assert_nothing_left(id);
        state
    }

    /// No state dir, no firmware copy, no claim, the core offline, the state root empty.
    fn assert_nothing_left(&self, id: &str) {
        self.assert_no_trace(id, 0, "offline");
        let left = names_in(&self.root);
        assert!(left.is_empty(), "stray files in the state root: {left:?}");
    }

    /// `create IMAGE bad` must fail with `want` in its message and change nothing.
    fn refused(&self, image: &str, want: &str) -> String {
        let o = self.run(&["create", image, "bad"]);
        assert_eq!(
            o.code, 1,
            "create {image} should fail: {}{}",
            o.stdout, o.stderr
        );
        assert!(
            o.stderr.contains(want),
            "create {image}: expected {want:?} in the error, got: {}",
            o.stderr
        );
        assert_eq!(o.stderr.lines().count(), 1, "one error line: {}", o.stderr);
        self.assert_nothing_left("bad");
        o.stderr
    }
}

fn firmware() -> Vec<u8> {
    Firmware::new().with_trace(1024).bytes()
}

fn file(path: &str, data: &[u8]) -> Entry {
    Entry::File(path.into(), data.to_vec(), 0o644)
}

#[test]
fn every_image_form_runs_through_the_lifecycle() {
    let t = T::new(&[]);
    let img = Image::new(&firmware()).tag("demo/blink:1.0");
    let (layout, _) = t.write(&img, Format::OciLayout, "layout");
    let (oci_tar, _) = t.write(&img, Format::OciArchive, "image.oci.tar");
    let (docker_tar, _) = t.write(
        &img.clone().gzip(false),
        Format::DockerArchive,
        "image.docker.tar",
    );
    img.write(Format::OciLayout, &t.store).unwrap();
    let forms = [
        layout.clone(),
        format!("oci:{layout}"),
        format!("oci:{layout}:demo/blink:1.0"),
        oci_tar.clone(),
        format!("oci-archive:{oci_tar}:demo/blink:1.0"),
        docker_tar.clone(),
        format!("docker-archive:{docker_tar}"),
        format!("docker-archive:{docker_tar}:demo/blink:1.0"),
        String::from("demo/blink:1.0"),
    ];
    for (i, form) in forms.iter().enumerate() {
        let state = t.lifecycle(form, &format!("c{i}"));
        assert_eq!(
            state["annotations"]["io.hybrid-runtime.image"],
            form.as_str()
        );
    }
    // A relative path works too, from the working directory.
    t.lifecycle("image.oci.tar", "relative");
}

#[test]
fn image_config_becomes_the_bundle_config() {
    let t = T::new(&["--processor", "name=m4", "--processor", "name=dsp"]);
    let img = Image::new(&[])
        .only_layers(vec![Layer::Entries(vec![
            Entry::Dir("lib".into()),
            Entry::Dir("lib/firmware".into()),
            file("lib/firmware/blink.elf", &firmware()),
        ])])
        .entrypoint(&["blink.elf"])
        .env("PATH=/lib/firmware")
        .label("mcu", "m4")
        .annotation("org.example.owner", "team-a");
    let (layout, _) = t.write(&img, Format::OciLayout, "layout");
    t.ok(&["create", &layout, "c"]);
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.root.join("c/config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["args"], serde_json::json!(["blink.elf"]));
    assert_eq!(config["root"]["path"], "rootfs");
    assert_eq!(config["annotations"]["mcu"], "m4");
    assert_eq!(config["annotations"]["org.example.owner"], "team-a");
    let state = t.state("c");
    assert_eq!(state["annotations"]["io.hybrid-runtime.core-name"], "m4");
    t.ok(&["delete", "--force", "c"]);

    // Entrypoint + Cmd, and an image for a core this board does not have.
    let img = Image::new(&firmware())
        .entrypoint(&["/firmware.elf"])
        .cmd(&["--fast"])
        .label("mcu", "cm7");
    let (layout, _) = t.write(&img, Format::OciLayout, "other-core");
    let err = t.refused(&layout, "no core \"cm7\"");
    assert!(
        err.contains("m4") && err.contains("dsp"),
        "names the available cores: {err}"
    );

    // An image for another board names both.
    let img = Image::new(&firmware())
        .label("board", "stm32mp157")
        .label("mcu", "m4");
    let (layout, _) = t.write(&img, Format::OciLayout, "other-board");
    let err = t.refused(&layout, "stm32mp157");
    assert!(
        err.contains("Hybrid Simulator Board"),
        "names this board: {err}"
    );

    // The image's Env selects too (Docker 20.10 passes no annotations, only the environment).
    let img = Image::new(&firmware()).env("HYBRID_CORE=dsp");
    let (layout, _) = t.write(&img, Format::OciLayout, "env");
    t.ok(&["create", &layout, "e"]);
    assert_eq!(
        t.state("e")["annotations"]["io.hybrid-runtime.core-name"],
        "dsp"
    );
    t.ok(&["delete", "--force", "e"]);
}

#[test]
fn layers_apply_in_order_with_whiteouts_links_and_any_compression() {
    let t = T::new(&[]);
    let fw = firmware();
    for gzip in [true, false] {
        let img = Image::new(&[])
            .only_layers(vec![
                Layer::Entries(vec![
                    Entry::Dir("old".into()),
                    file("old/a", b"a"),
                    file("gone", b"x"),
                    file("firmware.elf", b"not yet"),
                ]),
                Layer::Entries(vec![
                    Entry::Opaque("old".into()),
                    file("old/b", b"b"),
                    Entry::Whiteout("gone".into()),
                    file("firmware.elf", &fw),
                    Entry::Hardlink("fw-link.elf".into(), "firmware.elf".into()),
                    Entry::Symlink("current".into(), "firmware.elf".into()),
                    file(&format!("{}/deep.txt", "d".repeat(120)), b"long name"),
                ]),
            ])
            .entrypoint(&["/current"])
            .gzip(gzip)
            .platform("linux/arm/v7");
        let (layout, _) = t.write(&img, Format::OciLayout, &format!("layout-{gzip}"));
        t.ok(&["create", &layout, "c"]);
        let rootfs = t.root.join("c/rootfs");
        assert!(
            !rootfs.join("old/a").exists(),
            "opaque whiteout hides lower content"
        );
        assert_eq!(std::fs::read(rootfs.join("old/b")).unwrap(), b"b");
        assert!(!rootfs.join("gone").exists(), "whiteout deletes");
        assert!(
            !rootfs.join(".wh.gone").exists(),
            "whiteouts are not unpacked"
        );
        assert_eq!(std::fs::read(rootfs.join("fw-link.elf")).unwrap(), fw);
        assert!(rootfs
            .join(format!("{}/deep.txt", "d".repeat(120)))
            .is_file());
        t.ok(&["start", "c"]);
        assert_eq!(t.sim.state(0), "running");
        t.ok(&["delete", "--force", "c"]);
        t.assert_nothing_left("c");
    }
    // A platform-less firmware manifest is taken too.
    let (layout, _) = t.write(&Image::new(&fw).platform("none"), Format::OciLayout, "none");
    t.ok(&["create", &layout, "n"]);
    t.ok(&["delete", "--force", "n"]);
}

#[test]
fn hostile_layer_entries_are_refused_and_nothing_is_written_outside() {
    let t = T::new(&[]);
    let fw = firmware();
    let outside = t.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let out = outside.to_str().unwrap();
    let cases: Vec<(&str, Vec<Entry>, &str)> = vec![
        (
            "dotdot",
            vec![file("../../escape", b"x")],
            "entry ../../escape contains \"..\": refused",
        ),
        (
            "absolute",
            vec![file("/etc/escape", b"x")],
            "entry /etc/escape has an absolute path: refused",
        ),
        (
            "symlink-plant",
            vec![
                Entry::Symlink("evil".into(), out.into()),
                file("evil/planted", b"x"),
            ],
            "entry evil/planted goes through the symlink evil: refused",
        ),
        (
            "symlink-plant-dir",
            vec![
                Entry::Symlink("evil".into(), "../..".into()),
                Entry::Dir("evil/sub".into()),
            ],
            "entry evil/sub goes through the symlink evil",
        ),
        (
            "hardlink-out",
            vec![Entry::Hardlink("link".into(), "../../../etc/passwd".into())],
            "hard link link points outside the image (../../../etc/passwd)",
        ),
        (
            "hardlink-abs",
            vec![Entry::Hardlink("link".into(), "/etc/passwd".into())],
            "hard link link points outside the image (/etc/passwd)",
        ),
        (
            "hardlink-via-symlink",
            vec![
                Entry::Symlink("evil".into(), out.into()),
                Entry::Hardlink("link".into(), "evil/f".into()),
            ],
            "entry link goes through the symlink evil",
        ),
        (
            "device",
            vec![Entry::CharDevice("dev/mem".into(), 1, 1)],
            "entry dev/mem is a device node or FIFO: refused",
        ),
        (
            "fifo",
            vec![Entry::Fifo("pipe".into())],
            "entry pipe is a device node or FIFO: refused",
        ),
    ];
    for (name, entries, want) in cases {
        let img = Image::new(&fw).layer(entries);
        for format in [Format::OciLayout, Format::DockerArchive] {
            let (p, _) = t.write(&img, format, &format!("{name}-{format:?}"));
            let err = t.refused(&p, want);
            assert!(err.contains("layer 2"), "names the layer: {err}");
            assert_eq!(
                std::fs::read_dir(&outside).unwrap().count(),
                0,
                "{name}: wrote outside"
            );
        }
    }
    assert!(!t.sim.root().parent().unwrap().join("escape").exists());
}

#[test]
fn broken_images_are_refused_naming_the_file_and_blob() {
    let t = T::new(&[]);
    let fw = firmware();
    let base = Image::new(&fw);

    // Digest mismatch: a layer blob altered after the fact.
    let (p, w) = t.write(&base, Format::OciLayout, "tampered");
    let blob = Path::new(&p).join(blob_path(&w.layers[0]));
    let mut data = std::fs::read(&blob).unwrap();
    let n = data.len();
    data[n - 9] ^= 0xff;
    std::fs::write(&blob, &data).unwrap();
    t.refused(
        &p,
        &format!("blob layer 1 ({}) does not match its digest", w.layers[0]),
    );

    // Size mismatch: the descriptor lies about the size.
    let mut lying = base.clone();
    lying.layer_size_delta = 7;
    let (p, w) = t.write(&lying, Format::OciLayout, "lying");
    t.refused(
        &p,
        &format!(
            "blob layer 1 ({}) has {} bytes, the descriptor says {}",
            w.layers[0],
            n,
            n + 7
        ),
    );

    // Missing blob, missing index.
    let (p, w) = t.write(&base, Format::OciLayout, "missing-blob");
    std::fs::remove_file(Path::new(&p).join(blob_path(&w.layers[0]))).unwrap();
    t.refused(&p, &format!("blob layer 1 ({}) is missing", w.layers[0]));
    let (p, w) = t.write(&base, Format::OciLayout, "missing-config");
    std::fs::remove_file(Path::new(&p).join(blob_path(&w.config))).unwrap();
    t.refused(&p, &format!("blob config ({}) is missing", w.config));
    let (p, _) = t.write(&base, Format::OciLayout, "missing-index");
    std::fs::remove_file(Path::new(&p).join("index.json")).unwrap();
    t.refused(&format!("oci:{p}"), "index.json is missing");

    // Unknown and unsupported media types.
    let mut odd = base.clone();
    odd.layer_media_type = Some("application/x-firmware".into());
    let (p, w) = t.write(&odd, Format::OciLayout, "odd-type");
    t.refused(
        &p,
        &format!(
            "blob layer 1 ({}): unknown media type \"application/x-firmware\"",
            w.layers[0]
        ),
    );
    // A gzip blob said to be zstd.
    let mut zstd = base.clone();
    zstd.layer_media_type = Some("application/vnd.oci.image.layer.v1.tar+zstd".into());
    let (p, w) = t.write(&zstd, Format::OciLayout, "zstd");
    t.refused(&p, &format!("layer 1 ({}): bad zstd data", w.layers[0]));
    let mut manifest_type = base.clone();
    manifest_type.manifest_media_type = "application/x-manifest".into();
    let (p, w) = t.write(&manifest_type, Format::OciLayout, "manifest-type");
    t.refused(
        &p,
        &format!(
            "blob manifest ({}) has the unknown media type \"application/x-manifest\"",
            w.manifest
        ),
    );

    // No layers; no Entrypoint.
    let (p, w) = t.write(
        &base.clone().only_layers(vec![]),
        Format::OciLayout,
        "no-layers",
    );
    t.refused(&p, &format!("manifest {} has no layers", w.manifest));
    let (p, w) = t.write(
        &base.clone().no_entrypoint(),
        Format::OciArchive,
        "no-entry.tar",
    );
    t.refused(
        &p,
        &format!("its config ({}) has no Entrypoint or Cmd", w.config),
    );

    // Truncated archives (oci-archive and docker-archive).
    for (format, name) in [
        (Format::OciArchive, "cut-oci.tar"),
        (Format::DockerArchive, "cut-docker.tar"),
    ] {
        let (p, _) = t.write(&base, format, name);
        let data = std::fs::read(&p).unwrap();
        std::fs::write(&p, &data[..data.len() - 3000]).unwrap();
        t.refused(&p, &format!("image archive {p}: the archive is truncated"));
    }

    // A docker-archive layer that does not match the config's diff id.
    let (p, _) = t.write(
        &base.clone().gzip(false),
        Format::DockerArchive,
        "docker-tampered.tar",
    );
    let mut data = std::fs::read(&p).unwrap();
    let at = data
        .windows(fw.len())
        .position(|w| w == fw.as_slice())
        .unwrap();
    data[at + fw.len() - 1] ^= 0xff;
    std::fs::write(&p, &data).unwrap();
    t.refused(&p, "does not match its digest in the image config");

    // A decompression bomb against the cap.
    let big = Image::new(&vec![0u8; 8 << 20]);
    let (p, _) = t.write(&big, Format::OciLayout, "bomb");
    assert!(std::fs::metadata(Path::new(&p).join("blobs/sha256")).is_ok());
    let mut t = t;
    t.env.push(("HYBRID_IMAGE_MAX_SIZE".into(), "4M".into()));
    t.refused(
        &p,
        "the image unpacks to more than 4194304 bytes (at firmware.elf)",
    );
    t.env.clear();

    // Names: not in the store, no store at all, not in the archive.
    t.refused("nothing/here:1", "the image store");
    base.clone()
        .tag("present")
        .write(Format::OciLayout, &t.store)
        .unwrap();
    t.refused("absent", "no image named absent in it (names: present)");
    let (p, _) = t.write(&base.clone().tag("v1"), Format::OciArchive, "tagged.tar");
    t.refused(
        &format!("oci-archive:{p}:v2"),
        "no image named v2 in it (names: v1)",
    );
    t.refused(
        "./no-such-file.tar",
        "image ./no-such-file.tar does not exist",
    );
}

#[test]
fn images_lists_the_store() {
    let t = T::new(&[]);
    let o = t.run(&["images"]);
    assert_eq!(o.code, 0);
    assert!(o.stderr.contains("no images in"), "{}", o.stderr);
    Image::new(&firmware())
        .tag("blink:1")
        .label("mcu", "m4")
        .label("board", "imx8mp")
        .write(Format::OciLayout, &t.store)
        .unwrap();
    Image::new(&firmware())
        .tag("other:2")
        .label("io.hybrid-runtime.core", "dsp")
        .write(Format::OciLayout, &t.store)
        .unwrap();
    let table = t.ok(&["images"]);
    assert_eq!(
        table.lines().count(),
        3,
        "a header and both images: {table}"
    );
    assert!(
        table.lines().nth(2).unwrap().starts_with("other:2 "),
        "{table}"
    );
    assert!(table.lines().nth(2).unwrap().ends_with(" dsp"), "{table}");
    let row = table.lines().nth(1).unwrap();
    assert!(row.starts_with("blink:1 "), "{table}");
    assert!(row.contains("imx8mp") && row.contains(" m4"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["images", "--format", "json"])).unwrap();
    assert_eq!(json[0]["name"], "blink:1");
    assert_eq!(json[0]["core"], "m4");
    assert!(json[0]["digest"].as_str().unwrap().starts_with("sha256:"));
}

/// `index.json` of the layout at `dir`.
fn read_index(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap()
}

#[test]
fn the_manifest_for_this_platform_is_chosen_through_nested_indexes() {
    let t = T::new(&[]);
    let host = match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        "x86_64" => "linux/amd64",
        "arm" => "linux/arm",
        other => panic!("no test platform for {other}"),
    };
    let other = if host == "linux/amd64" {
        "linux/arm64"
    } else {
        "linux/amd64"
    };
    let ours = Firmware::new().with_trace(512).bytes();
    let theirs = Firmware::new().with_trace(2048).bytes();
    let dir = t.path("multi");
    // Two single-platform images written into one layout, then one index over both, as
    // `docker buildx --platform A,B --output type=oci` writes it: index.json → image index
    // → manifests, plus an attestation manifest buildx marks unknown/unknown.
    Image::new(&theirs)
        .platform(other)
        .label("mcu", "dsp")
        .write(Format::OciLayout, &dir)
        .unwrap();
    let mut manifests = read_index(&dir)["manifests"].as_array().unwrap().clone();
    Image::new(&ours)
        .platform(host)
        .label("mcu", "m4")
        .write(Format::OciLayout, &dir)
        .unwrap();
    manifests.extend(
        read_index(&dir)["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    let mut attestation = manifests[0].clone();
    attestation["platform"] = serde_json::json!({"os": "unknown", "architecture": "unknown"});
    manifests.insert(0, attestation);
    let nested = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    })
    .to_string();
    let digest = hybrid_sim::image::digest(nested.as_bytes());
    std::fs::write(dir.join(blob_path(&digest)), &nested).unwrap();
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": nested.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi:1"},
        }],
    });
    std::fs::write(dir.join("index.json"), top.to_string()).unwrap();
    let image = format!("oci:{}:multi:1", dir.display());
    t.ok(&["create", &image, "m"]);
    let unpacked = std::fs::read(t.root.join("m/rootfs/firmware.elf")).unwrap();
    assert!(unpacked == ours, "the {host} manifest was taken");
    t.ok(&["delete", "--force", "m"]);
    // `images` shows what this board would run from a multi-platform image.
    let mut t = t;
    t.env
        .push(("HYBRID_IMAGES".into(), dir.to_string_lossy().into_owned()));
    let listed: serde_json::Value =
        serde_json::from_str(&t.ok(&["images", "--format", "json"])).unwrap();
    assert_eq!(listed[0]["name"], "multi:1");
    assert_eq!(listed[0]["core"], "m4");
    t.env.clear();

    // Without a manifest for this platform nor a platform-less one: refused, listing them.
    let only_other = t.path("only-other");
    Image::new(&theirs)
        .platform(other)
        .write(Format::OciLayout, &only_other)
        .unwrap();
    Image::new(&theirs)
        .platform("linux/riscv64")
        .write(Format::OciLayout, &t.path("x"))
        .unwrap();
    let mut idx = read_index(&only_other);
    let mut second = read_index(&t.path("x"))["manifests"][0].clone();
    second["platform"]["architecture"] = "riscv64".into();
    idx["manifests"].as_array_mut().unwrap().push(second);
    std::fs::write(only_other.join("index.json"), idx.to_string()).unwrap();
    let err = t.refused(
        only_other.to_str().unwrap(),
        &format!("no manifest for this board's platform {host} nor one without a platform"),
    );
    assert!(
        err.contains(other) && err.contains("linux/riscv64"),
        "{err}"
    );
}

#[test]
fn docker_archive_layers_linked_inside_the_archive_are_followed() {
    let t = T::new(&[]);
    let fw = firmware();
    // `docker save` links a layer that two images share; a link to outside the archive is
    // simply not a layer.
    let tar = hybrid_sim::image::layer_tar(&[file("firmware.elf", &fw)]);
    let config = serde_json::json!({
        "architecture": "arm64", "os": "linux",
        "config": {"Entrypoint": ["/firmware.elf"]},
        "rootfs": {"type": "layers", "diff_ids": [hybrid_sim::image::digest(&tar)]},
    })
    .to_string();
    let config_name = format!("{}.json", hybrid_sim::image::sha256_hex(config.as_bytes()));
    let archive = |layer: &str| {
        let manifest = serde_json::json!([{
            "Config": config_name, "RepoTags": ["linked:1"], "Layers": [layer],
        }])
        .to_string();
        hybrid_sim::image::tar(&[
            Entry::File(config_name.clone(), config.clone().into_bytes(), 0o644),
            Entry::Dir("aaa".into()),
            Entry::File("aaa/layer.tar".into(), tar.clone(), 0o644),
            Entry::Dir("bbb".into()),
            Entry::Symlink("bbb/layer.tar".into(), "../aaa/layer.tar".into()),
            Entry::Symlink("ccc.tar".into(), "/etc/passwd".into()),
            Entry::File("manifest.json".into(), manifest.into_bytes(), 0o644),
        ])
    };
    std::fs::write(t.path("linked.tar"), archive("bbb/layer.tar")).unwrap();
    t.ok(&["create", "docker-archive:linked.tar:linked:1", "l"]);
    assert_eq!(
        std::fs::read(t.root.join("l/rootfs/firmware.elf")).unwrap(),
        fw
    );
    t.ok(&["delete", "--force", "l"]);
    std::fs::write(t.path("outside.tar"), archive("ccc.tar")).unwrap();
    t.refused("docker-archive:outside.tar", "layer ccc.tar is missing");
}

/// Point the first manifest of the layout at `dir` at `digest`; `name` picks the one with that
/// ref name instead.
fn set_digest(dir: &Path, name: Option<&str>, digest: &str) {
    let mut idx = read_index(dir);
    let list = idx["manifests"].as_array_mut().unwrap();
    let d = match name {
        Some(n) => list
            .iter_mut()
            .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == n)
            .unwrap(),
        None => &mut list[0],
    };
    d["digest"] = digest.into();
    std::fs::write(dir.join("index.json"), idx.to_string()).unwrap();
}

#[test]
fn bad_digests_in_the_index_are_refused_by_name_without_a_crash() {
    let t = T::new(&[]);
    let img = Image::new(&firmware());
    // 64 bytes after `sha256:`, and byte 19 inside a character.
    let non_ascii = format!("sha256:0{}0", "é".repeat(31));

    // In the store: `images` names the bad entry and exits 1 (it aborted once on such a digest).
    img.clone()
        .tag("good:1")
        .write(Format::OciLayout, &t.store)
        .unwrap();
    img.clone()
        .tag("bad:1")
        .write(Format::OciLayout, &t.store)
        .unwrap();
    let table = t.ok(&["images"]);
    assert!(
        table.contains("good:1 ") && table.contains("bad:1 "),
        "{table}"
    );
    set_digest(&t.store, Some("bad:1"), &non_ascii);
    for format in ["table", "json"] {
        let o = t.run(&["images", "--format", format]);
        o.fails_with(
            1,
            "index.json (index.json) is not valid: manifests[1].digest: Invalid encoded value",
        );
    }
    // Creating from that store names the bad entry.
    t.refused("good:1", "manifests[1].digest: Invalid encoded value");

    // A layout: refused, naming the field and what is wrong with it.
    let cases = [
        (non_ascii.as_str(), "Invalid encoded value"),
        ("sha256:0123", "Invalid digest length 4 expected 64"),
        ("sha256", "missing ':' in digest"),
    ];
    for (i, (digest, why)) in cases.iter().enumerate() {
        let (p, _) = t.write(&img, Format::OciLayout, &format!("bad-digest-{i}"));
        set_digest(Path::new(&p), None, digest);
        let err = t.refused(
            &p,
            "index.json (index.json) is not valid: manifests[0].digest: ",
        );
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn gzip_layers_are_read_whole_and_checked() {
    let t = T::new(&[]);
    let fw = firmware();
    let tar = layer_tar(&[
        file("a.txt", b"first member"),
        file("b.txt", b"second member"),
        file("firmware.elf", &fw),
    ]);
    // Two gzip members with the tar cut between them, as `cat a.gz b.gz` writes them.
    let mut members = gzip(&tar[..700]);
    members.extend(gzip(&tar[700..]));
    let img = Image::new(&[])
        .only_layers(vec![])
        .compressed_layer(members, LAYER_GZIP, &tar);
    for format in [Format::OciLayout, Format::DockerArchive] {
        let (p, _) = t.write(&img, format, &format!("members-{format:?}"));
        t.ok(&["create", &p, "m"]);
        let rootfs = t.root.join("m/rootfs");
        assert_eq!(
            std::fs::read(rootfs.join("a.txt")).unwrap(),
            b"first member"
        );
        assert_eq!(
            std::fs::read(rootfs.join("b.txt")).unwrap(),
            b"second member"
        );
        assert_eq!(std::fs::read(rootfs.join("firmware.elf")).unwrap(), fw);
        t.ok(&["delete", "--force", "m"]);
    }

    // A wrong CRC or length in the trailer, and bytes after the last member: refused, naming
    // the layer (its blob is what the manifest says: only the gzip data is wrong).
    let whole = gzip(&tar);
    let n = whole.len();
    let mut crc = whole.clone();
    crc[n - 8] ^= 1;
    let mut length = whole.clone();
    length[n - 4] ^= 1;
    let mut trailing = whole.clone();
    trailing.extend_from_slice(b"trailing garbage");
    let checksum = "bad gzip data: corrupt gzip stream does not have a matching checksum";
    for (name, blob, want) in [
        ("crc", crc, checksum),
        ("length", length, checksum),
        ("trailing", trailing, "bad gzip data: invalid gzip header"),
    ] {
        let img = Image::new(&fw).compressed_layer(blob, LAYER_GZIP, &tar);
        for format in [Format::OciLayout, Format::DockerArchive] {
            let (p, w) = t.write(&img, format, &format!("{name}-{format:?}"));
            let err = t.refused(&p, want);
            let layer = match format {
                Format::DockerArchive => format!("layer 2 ({}): ", w.docker_layer_paths[1]),
                _ => format!("layer 2 ({}): ", w.layers[1]),
            };
            assert!(err.contains(&layer), "names {layer}: {err}");
        }
    }
}

#[test]
fn zstd_layers_are_unpacked() {
    let t = T::new(&[]);
    let fw = firmware();
    let tar = layer_tar(&[file("firmware.elf", &fw), file("notes.txt", b"zstd")]);
    let frame = zstd::encode_all(&tar[..], 3).unwrap();
    // Two frames one after the other (as parallel compressors write them).
    let mut frames = zstd::encode_all(&tar[..1000], 19).unwrap();
    frames.extend(zstd::encode_all(&tar[1000..], 1).unwrap());
    let cases = [
        (frame.clone(), Format::OciLayout),
        (frames, Format::OciLayout),
        // A docker-archive layer is recognised by its first bytes.
        (frame, Format::DockerArchive),
    ];
    for (i, (blob, format)) in cases.into_iter().enumerate() {
        let img = Image::new(&[])
            .only_layers(vec![])
            .compressed_layer(blob, LAYER_ZSTD, &tar);
        let (p, _) = t.write(&img, format, &format!("zstd-{i}"));
        let state = t.lifecycle(&p, &format!("z{i}"));
        assert_eq!(state["status"], "created");
    }
    // The files are there while the container exists.
    let img = Image::new(&[]).only_layers(vec![]).compressed_layer(
        zstd::encode_all(&tar[..], 3).unwrap(),
        LAYER_ZSTD,
        &tar,
    );
    let (p, _) = t.write(&img, Format::OciArchive, "zstd.tar");
    t.ok(&["create", &p, "z"]);
    let rootfs = t.root.join("z/rootfs");
    assert_eq!(std::fs::read(rootfs.join("firmware.elf")).unwrap(), fw);
    assert_eq!(std::fs::read(rootfs.join("notes.txt")).unwrap(), b"zstd");
    t.ok(&["delete", "--force", "z"]);
}

#[test]
fn sparse_entries_are_refused() {
    use std::os::unix::fs::FileExt;
    let t = T::new(&[]);
    let fw = firmware();
    let src = t.path("sparse-src");
    std::fs::create_dir_all(&src).unwrap();
    let holes = std::fs::File::create(src.join("holes.bin")).unwrap();
    holes.set_len(8 << 20).unwrap();
    holes.write_all_at(b"data between holes", 4 << 20).unwrap();
    drop(holes);
    for (tar_format, sparse_mark) in [("gnu", &b"S"[..]), ("pax", &b"GNU.sparse."[..])] {
        let out = t.path(&format!("sparse-{tar_format}.tar"));
        let st = std::process::Command::new("tar")
            .arg("--sparse")
            .arg(format!("--format={tar_format}"))
            .arg("-C")
            .arg(&src)
            .arg("-cf")
            .arg(&out)
            .arg("holes.bin")
            .status()
            .expect("GNU tar");
        assert!(st.success());
        let data = std::fs::read(&out).unwrap();
        let marked = match tar_format {
            "gnu" => data[156] == b'S',
            _ => data.windows(sparse_mark.len()).any(|w| w == sparse_mark),
        };
        assert!(marked, "GNU tar wrote no sparse entry ({tar_format})");
        let img = Image::new(&fw).raw_layer(data, LAYER_TAR);
        for format in [Format::OciLayout, Format::DockerArchive] {
            let (p, _) = t.write(&img, format, &format!("sparse-{tar_format}-{format:?}"));
            let err = t.refused(&p, "is a GNU sparse file: refused");
            assert!(
                err.contains("layer 2 (") && err.contains("holes.bin"),
                "names the layer and the entry: {err}"
            );
        }
    }
}

fn mkfifo(p: &Path) {
    let _ = std::fs::remove_file(p);
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn fifos_and_symlinks_in_a_layout_are_refused_without_waiting() {
    let t = T::new(&[]);
    let img = Image::new(&firmware());
    // `create` must answer within the limit: a FIFO opened for reading would wait for a writer.
    let create = |image: &str, want: &str| {
        let mut c = t.command(&["create", image, "bad"]);
        let o = t.output_within(&mut c, Duration::from_secs(20));
        assert_ne!(o.code, -2, "create {image} waited on a FIFO");
        assert_eq!(o.code, 1, "create {image}: {}", o.stderr);
        assert!(o.stderr.contains(want), "expected {want:?}: {}", o.stderr);
        t.assert_nothing_left("bad");
    };
    let (p, _) = t.write(&img, Format::OciLayout, "fifo-index");
    mkfifo(&Path::new(&p).join("index.json"));
    create(
        &format!("oci:{p}"),
        "index.json is not a regular file (a FIFO, device, directory or symlink): refused",
    );

    let (p, w) = t.write(&img, Format::OciLayout, "fifo-blob");
    let blob = blob_path(&w.layers[0]);
    mkfifo(&Path::new(&p).join(&blob));
    create(&p, &format!("{blob} is not a regular file"));

    // A blob that is a symlink (to its own content, even) is not followed.
    let (p, w) = t.write(&img, Format::OciLayout, "symlink-blob");
    let blob = Path::new(&p).join(blob_path(&w.config));
    std::fs::rename(&blob, t.path("config-copy")).unwrap();
    std::os::unix::fs::symlink(t.path("config-copy"), &blob).unwrap();
    create(
        &p,
        &format!("{} is not a regular file", blob_path(&w.config)),
    );

    // An archive that is a FIFO.
    let fifo = t.path("fifo.tar");
    mkfifo(&fifo);
    create(&format!("oci-archive:{}", fifo.display()), "image archive");
}

#[test]
fn whiteouts_of_a_directory_itself_or_its_parent_are_refused() {
    let t = T::new(&[]);
    let fw = firmware();
    for (hidden, entry) in [
        ("", ".wh."),
        (".", ".wh.."),
        ("..", ".wh..."),
        ("lib/.", "lib/.wh.."),
        ("lib/..", "lib/.wh..."),
    ] {
        let img = Image::new(&fw).layer(vec![
            Entry::Dir("lib".into()),
            file("lib/keep", b"k"),
            Entry::Whiteout(hidden.into()),
        ]);
        for format in [Format::OciLayout, Format::DockerArchive] {
            let (p, _) = t.write(&img, format, &format!("wh-{}-{format:?}", hidden.len()));
            let err = t.refused(
                &p,
                &format!(
                    "entry {entry} is a whiteout of the directory that holds it or of its \
                     parent: refused"
                ),
            );
            assert!(err.contains("layer 2 ("), "names the layer: {err}");
        }
    }
    // Another container's directory next to it stays as it was.
    let (good, _) = t.write(&Image::new(&fw), Format::OciLayout, "good");
    t.ok(&["create", &good, "keep"]);
    let img = Image::new(&fw).layer(vec![Entry::Whiteout("..".into())]);
    let (p, _) = t.write(&img, Format::OciLayout, "parent-whiteout");
    let o = t.run(&["create", &p, "bad"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(
        std::fs::read(t.root.join("keep/rootfs/firmware.elf")).unwrap(),
        fw
    );
    assert!(!t.root.join("bad").exists());
    t.ok(&["delete", "--force", "keep"]);
    t.assert_nothing_left("keep");
}

#[test]
fn a_layer_found_at_its_end_not_to_match_its_digests_leaves_nothing() {
    let t = T::new(&[]);
    let fw = firmware();
    // An uncompressed layer whose tar is intact but for one byte of the firmware: every entry
    // unpacks before the blob's digest is known.
    let (p, w) = t.write(&Image::new(&fw).gzip(false), Format::OciLayout, "late");
    let blob = Path::new(&p).join(blob_path(&w.layers[0]));
    let mut data = std::fs::read(&blob).unwrap();
    let at = data
        .windows(fw.len())
        .position(|w| w == fw.as_slice())
        .unwrap();
    data[at + fw.len() / 2] ^= 0xff;
    std::fs::write(&blob, &data).unwrap();
    t.refused(
        &p,
        &format!(
            "blob layer 1 ({}) does not match its digest (its content hashes to sha256:",
            w.layers[0]
        ),
    );

    // A gzip blob that is what the manifest says, holding a tar that is not what the config's
    // diff id says.
    let tar = layer_tar(&[file("firmware.elf", &fw)]);
    let other = layer_tar(&[file("firmware.elf", b"another firmware")]);
    let img = Image::new(&[])
        .only_layers(vec![])
        .compressed_layer(gzip(&tar), LAYER_GZIP, &other);
    let (p, w) = t.write(&img, Format::OciLayout, "diff-id");
    t.refused(
        &p,
        &format!(
            "layer 1 ({}): does not match its digest in the image config ({}; its content \
             hashes to {})",
            w.layers[0],
            hybrid_sim::image::digest(&other),
            hybrid_sim::image::digest(&tar)
        ),
    );
}
