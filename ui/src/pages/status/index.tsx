// Placeholder for the Status page; the ui-pages branch replaces this file with the real page.

/** The Status page. */
export default function StatusPage() {
  return (
    <section class="placeholder">
      <h1>Status</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
