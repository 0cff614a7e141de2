#!/usr/bin/env python3
"""Write an OCI image layout of random (incompressible) uncompressed tar layers.

Usage: mkimage.py DIR TAG LAYERS LAYER_MB [SEED]

Each layer is a tar of random files totalling about LAYER_MB MiB. The layers are left
uncompressed (media type application/vnd.oci.image.layer.v1.tar), so a client that passes
blobs through unchanged pushes exactly these bytes. Standard library only.
"""

import hashlib
import io
import json
import os
import random
import sys
import tarfile

MiB = 1024 * 1024
FILES_PER_LAYER = 4


def write_blob(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest


def make_layer(index, layer_mb, rng):
    buf = io.BytesIO()
    per_file = layer_mb * MiB // FILES_PER_LAYER
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(FILES_PER_LAYER):
            data = rng.randbytes(per_file)
            info = tarfile.TarInfo(name=f"layer{index}/file{i}.bin")
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    out, tag, layers, layer_mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seed = sys.argv[5] if len(sys.argv) == 6 else os.urandom(16).hex()
    rng = random.Random(seed)
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    layer_descs, diff_ids = [], []
    for i in range(layers):
        data = make_layer(i, layer_mb, rng)
        digest = write_blob(blobs, data)
        layer_descs.append({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest,
            "size": len(data),
        })
        diff_ids.append(digest)  # uncompressed: diff_id == digest

    config = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/true"], "Labels": {"bench.seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"bench layer {i}"}
                    for i in range(layers)],
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_digest = write_blob(blobs, config_bytes)

    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": layer_descs,
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    manifest_digest = write_blob(blobs, manifest_bytes)

    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": len(manifest_bytes),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    }
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    # Summary for the caller: total bytes and layer digests, largest layer first.
    total = sum(d["size"] for d in layer_descs) + len(config_bytes)
    biggest = max(layer_descs, key=lambda d: d["size"])
    print(json.dumps({
        "manifest": manifest_digest,
        "layers": [d["digest"] for d in layer_descs],
        "total_bytes": total,
        "largest_layer": biggest["digest"],
        "largest_layer_size": biggest["size"],
    }))


if __name__ == "__main__":
    main()
