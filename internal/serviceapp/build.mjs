// The one build of the service app: esbuild bundles src/ into dist/ (the
// bundle, the stylesheet, the service worker), copies the page, the manifest
// and the icons, and names the service worker's cache after the hash of the
// shell it keeps. The output depends on the inputs only (no time, no paths,
// no random), so CI can rebuild it and compare (check-bundle).
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const dist = "dist";
fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, "icons"), { recursive: true });

const common = { bundle: true, minify: true, charset: "utf8", legalComments: "eof", logLevel: "warning", sourcemap: false };
// jsQR (the QR decoder where the browser has no BarcodeDetector) is a chunk of
// its own, loaded when a letter is read.
await esbuild.build({ ...common, entryPoints: ["src/app.js"], format: "esm", target: ["es2022"], outdir: dist, splitting: true,
  chunkNames: "chunks/[name]-[hash]" });
await esbuild.build({ ...common, entryPoints: ["src/app.css"], outfile: path.join(dist, "app.css") });
for (const f of ["index.html", "manifest.webmanifest"]) fs.copyFileSync(path.join("src", f), path.join(dist, f));
const icons = fs.readdirSync("src/icons").sort();
for (const f of icons) fs.copyFileSync(path.join("src/icons", f), path.join(dist, "icons", f));

// The shell the service worker keeps, and its version: a hash of its files.
const chunks = fs.readdirSync(path.join(dist, "chunks")).sort();
const files = ["index.html", "app.js", "app.css", "manifest.webmanifest", ...chunks.map((f) => "chunks/" + f),
  ...icons.map((f) => "icons/" + f)];
const hash = createHash("sha256");
for (const f of files) hash.update(f + "\0").update(fs.readFileSync(path.join(dist, f))).update("\0");
const version = hash.digest("hex").slice(0, 16);
const shell = files.map((f) => (f === "index.html" ? "/app/" : "/app/" + f));
await esbuild.build({ ...common, entryPoints: ["src/sw.js"], format: "iife", target: ["es2020"], outfile: path.join(dist, "sw.js"),
  define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(version) } });
