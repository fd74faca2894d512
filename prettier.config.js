// Prettier (npm run lint checks, npm run format rewrites): the style the code was written in.
// printWidth 180: the code uses long lines (a message or a condition stays on one line). Measured
// on the tree before Prettier was added (27,500 lines), the existing lines a reformat rewrites:
// 120: 1,400 (+6,260 new lines), 160: 730 (+2,250), 170: 690 (+1,710), 180: 710 (+1,390),
// 200: 810 (+1,070; wider joins more lines). 180 disturbs the least overall.
// Everything else (semicolons, 2 spaces, trailing commas, parentheses around arrow parameters) is
// Prettier's default and already the code's. npm run lint checks with --cache (in
// node_modules/.cache/prettier, keyed on each file's content and these options): a file already
// found formatted is not parsed again (~10 s of CPU for the whole tree, ~1 s with the cache).
/** @type {import('prettier').Config} */
export default {
  printWidth: 180,
  singleQuote: true,
};
