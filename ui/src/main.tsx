// Entry point: mounts the app.

import { render } from "preact";
import { App } from "./App";
import "uplot/dist/uPlot.min.css";
import "./styles.css";

const root = document.getElementById("app");
if (root) render(<App />, root);
