// Placeholder for the Explore page; the ui-pages branch replaces this file with the real page.

/** The Explore page. */
export default function ExplorePage() {
  return (
    <section class="placeholder">
      <h1>Explore</h1>
      <p>This page is not built yet.</p>
    </section>
  );
}
