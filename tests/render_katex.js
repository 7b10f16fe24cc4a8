// Renders every LaTeX string given as a JSON array on stdin with KaTeX (throwOnError: true);
// prints a JSON array of {latex, error} for the strings that fail.
const katex = require(process.argv[2]);
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const failures = [];
  for (const latex of JSON.parse(input)) {
    try {
      katex.renderToString(latex, { throwOnError: true, displayMode: true, strict: "error" });
    } catch (error) {
      failures.push({ latex, error: String(error.message || error) });
    }
  }
  process.stdout.write(JSON.stringify(failures));
});
