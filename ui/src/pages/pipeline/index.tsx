// Placeholder for the Pipeline page; the ui-pages branch replaces this file with the real page.

/** The Pipeline page. */
export default function PipelinePage() {
  return (
    <section class="placeholder">
      <h1>Pipeline</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
