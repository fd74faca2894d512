// Prettier (npm run lint checks, npm run format rewrites): the style the code was written in.
// printWidth 180: the code uses long lines (a message or a condition stays on one line); measured
// on the tree before Prettier was added, 180 is where reformatting touches the fewest existing
// lines (~710 of 27,500; 120 would touch ~1,400 and add ~6,000 wrapped lines, 160 ~730 and ~2,200).
// Everything else (semicolons, 2 spaces, trailing commas, parentheses around arrow parameters) is
// Prettier's default and already the code's. npm run lint checks with --cache (in
// node_modules/.cache/prettier, keyed on each file's content and these options): a file already
// found formatted is not parsed again (~10 s of CPU for the whole tree, ~1 s with the cache).
/** @type {import('prettier').Config} */
export default {
  printWidth: 180,
  singleQuote: true,
};
