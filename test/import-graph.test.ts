// The shape of src's import graph: no module imports itself through a circle of others, and no
// lower layer imports a higher one (text, io, data, metrics < model < infer, train < postprocess
// < serve, web (the browser entry) < cli, as STYLE.md orders them). The graph is read from the TypeScript sources, type-only
// imports included, because a circle of types is still a circle a reader has to untangle.
// Leaves out node_modules and node: built-ins.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "./helpers.js";

const srcDir = join(repoRoot, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative specifiers of every static import/export-from and dynamic import() in a file. */
function relativeImports(code: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?|\bexport\s+(?:type\s+)?(?:\*|\{[^}]*\})\s*(?:as\s+\w+\s+)?from\s+|\bimport\s*\(\s*)["'](\.[^"']+)["']/g;
  for (const match of code.matchAll(pattern)) specifiers.push(match[1]);
  return specifiers;
}

/** Module (path relative to src, without extension) -> the modules it imports. */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(srcDir)) {
    const from = relative(srcDir, file).replace(/\.ts$/, "");
    const targets = new Set<string>();
    for (const specifier of relativeImports(readFileSync(file, "utf8"))) {
      targets.add(relative(srcDir, resolve(dirname(file), specifier)).replace(/\.js$/, "").replace(/\\/g, "/"));
    }
    graph.set(from.replace(/\\/g, "/"), targets);
  }
  return graph;
}

/** Every strongly connected component of more than one module (or a module importing itself). */
function circles(graph: Map<string, Set<string>>): string[][] {
  // Tarjan's algorithm, iterative enough for src's depth.
  let index = 0;
  const indices = new Map<string, number>();
  const lowest = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    indices.set(node, index);
    lowest.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        lowest.set(node, Math.min(lowest.get(node)!, lowest.get(next)!));
      } else if (onStack.has(next)) lowest.set(node, Math.min(lowest.get(node)!, indices.get(next)!));
    }
    if (lowest.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)!.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

/** Layer of a module: its top folder's rank (files directly in src sit with the lowest layer). */
const LAYERS: readonly (readonly string[])[] = [["text", "io", "errors", "package-root"], ["data"], ["metrics"], ["model"], ["infer", "train"], ["postprocess"], ["serve", "web"], ["cli", "index"]];
function layerOf(module: string): number {
  const top = module.split("/")[0];
  const rank = LAYERS.findIndex((names) => names.includes(top));
  assert.notEqual(rank, -1, `src/${top} has no layer in this test: add it to LAYERS`);
  return rank;
}

test("the import scanner sees static, type-only, re-export and dynamic imports", () => {
  const code = [
    'import { a } from "./a.js";',
    'import type { B } from "../b.js";',
    'import "./side-effect.js";',
    'export { c } from "./c.js";',
    'export * from "./d.js";',
    'const e = await import("./e.js");',
    'import { readFileSync } from "node:fs";',
  ].join("\n");
  assert.deepEqual(relativeImports(code), ["./a.js", "../b.js", "./side-effect.js", "./c.js", "./d.js", "./e.js"]);
});

test("src has no import circles", () => {
  const graph = importGraph();
  assert.ok(graph.size > 100, `read ${graph.size} modules from ${srcDir}`);
  assert.deepEqual(circles(graph), []);
});

test("circles() finds a circle when there is one", () => {
  const graph = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a"])],
    ["d", new Set(["a"])],
  ]);
  assert.deepEqual(circles(graph), [["a", "b", "c"]]);
});

test("no module imports one of a higher layer", () => {
  const upward: string[] = [];
  for (const [from, targets] of importGraph()) {
    for (const to of targets) if (layerOf(to) > layerOf(from)) upward.push(`${from} -> ${to}`);
  }
  assert.deepEqual(upward, []);
});
