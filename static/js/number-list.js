// A comma-separated list of numbers, as typed into a field: {values}, or {error} naming the first
// entry that is not a number. `empty` is the message for a field with no entry at all; `example`
// ends the message for a bad entry ("... enter numbers separated by commas, <example>.").
export function parseCommaNumbers(text, { empty, example }) {
  const entries = text.split(",");
  if (entries.every((entry) => entry.trim() === "")) return { error: empty };
  const values = [];
  for (const [index, entry] of entries.entries()) {
    const value = entry.trim() === "" ? Number.NaN : Number(entry.trim());
    if (!Number.isFinite(value)) {
      const shown = entry.trim() === "" ? "an empty entry" : `"${entry.trim()}"`;
      return { error: `Entry ${index + 1} (${shown}) is not a number: enter numbers separated `
        + `by commas, ${example}.` };
    }
    values.push(value);
  }
  return { values };
}
