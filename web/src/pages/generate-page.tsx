/** Placeholder: the Generate screen (prompt, parameters, modes, live progress, results). */
export function GeneratePage() {
  return <h1 className="visually-hidden">Generate</h1>;
}
