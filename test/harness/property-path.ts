// Pulumi's property paths (`a`, `a.b`, `a[0]`, `a["b.c"]`, `a[*]`), used by ignoreChanges and
// replaceOnChanges. Grammar, Reset and Contains follow pulumi/pulumi
// sdk/go/common/resource/properties_path.go (parsePropertyPath, PropertyPath.reset, PropertyPath.Contains).
import type { PropertyMap } from "./values";

export type PathElement = string | number;
export type PropertyPath = PathElement[];

/** Parses a path the way ParsePropertyPath does; throws with the path named when it is malformed. */
export function parsePath(text: string): PropertyPath {
  const fail = (why: string): never => {
    throw new Error(`invalid property path "${text}": ${why}`);
  };
  const out: PropertyPath = [];
  let rest = text;
  if (rest.startsWith(".")) fail("expected a name or index first");
  while (rest.length) {
    if (rest[0] === ".") {
      rest = rest.slice(1);
      if (!rest.length) fail("expected a name or index at the end");
    } else if (rest[0] === "[") {
      if (rest[1] === '"') {
        let key = "";
        let i = 2;
        for (;;) {
          if (i >= rest.length) fail("missing closing quote");
          if (rest[i] === '"') break;
          if (rest[i] === "\\" && rest[i + 1] === '"') {
            key += '"';
            i += 2;
          } else key += rest[i++];
        }
        if (rest[i + 1] !== "]") fail("missing closing bracket");
        out.push(key);
        rest = rest.slice(i + 2);
      } else {
        const close = rest.indexOf("]");
        if (close < 0) fail("missing closing bracket");
        const segment = rest.slice(1, close);
        if (segment === "*") out.push("*");
        else if (/^\d+$/.test(segment)) out.push(Number(segment));
        else fail(`invalid array index "${segment}"`);
        rest = rest.slice(close + 1);
      }
    } else {
      const end = rest.search(/[.[]/);
      const name = end < 0 ? rest : rest.slice(0, end);
      out.push(name);
      rest = end < 0 ? "" : rest.slice(end);
    }
  }
  return out;
}

/** Whether `path` covers `other` (a prefix of it, `*` matching any key), as PropertyPath.Contains. */
export function pathContains(path: PropertyPath, other: PropertyPath): boolean {
  if (other.length < path.length) return false;
  return path.every((p, i) => p === "*" || p === other[i]);
}

const isObject = (v: unknown): v is PropertyMap => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Sets the value at `path` in `news` back to its value in `olds` (or removes it where `olds` has none),
 * in place; false when the path runs through an element added or removed (PropertyPath.Reset).
 */
export function resetPath(path: PropertyPath, olds: unknown, news: unknown): boolean {
  if (!path.length) return false;
  const [key, ...rest] = path;
  if (typeof key === "number") {
    if (!Array.isArray(olds) || !Array.isArray(news)) return !Array.isArray(olds) && !Array.isArray(news);
    if (!rest.length && key >= olds.length && key >= news.length) return true;
    if (key >= olds.length || key >= news.length) return false;
    if (!rest.length) {
      news[key] = olds[key];
      return true;
    }
    return resetPath(rest, olds[key], news[key]);
  }
  if (key === "*") {
    if (isObject(olds) && isObject(news)) {
      if (!rest.length) {
        for (const k of Object.keys(news)) if (!(k in olds)) delete news[k];
        Object.assign(news, olds);
        return true;
      }
      return Object.keys(olds).every((k) => k in news && resetPath(rest, olds[k], news[k]));
    }
    if (Array.isArray(olds) && Array.isArray(news)) {
      const n = Math.min(olds.length, news.length);
      for (let i = 0; i < n; i++) {
        if (!rest.length) news[i] = olds[i];
        else if (!resetPath(rest, olds[i], news[i])) return false;
      }
      return olds.length === news.length;
    }
    return false;
  }
  if (!rest.length) {
    if (isObject(olds) && key in olds) {
      if (!isObject(news)) return false;
      news[key] = olds[key];
    } else if (isObject(news)) delete news[key];
    return true;
  }
  if (!isObject(olds) || !isObject(news)) return !isObject(olds) && !isObject(news);
  if (key in olds && !(key in news)) return false;
  if (!(key in olds) && !(key in news)) return true;
  return resetPath(rest, olds[key], news[key]);
}
