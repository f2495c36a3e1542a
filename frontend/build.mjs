// Bundle the browser code: app.js (every page) plus one entry per file in
// src/pages/ (loaded only by the page that needs it). Shared code is split
// into chunks. Output: static/dist/, served by Django's staticfiles.
import { readdirSync } from "node:fs";
import * as esbuild from "esbuild";

const pages = readdirSync("frontend/src/pages")
  .filter((name) => /\.(js|jsx)$/.test(name))
  .map((name) => `frontend/src/pages/${name}`);

await esbuild.build({
  entryPoints: ["frontend/src/app.js", ...pages],
  outdir: "static/dist",
  outbase: "frontend/src",
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
