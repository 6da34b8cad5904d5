// Placeholder for the Targets page; the ui-pages branch replaces this file with the real page.

/** The Targets page. */
export default function TargetsPage() {
  return (
    <section class="placeholder">
      <h1>Targets</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
