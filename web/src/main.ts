// The kiswatch UI entry point. The watchlist and detail pages arrive with the service (`kiswatch serve`);
// until then this page only says where the simulator is.
import { formatKrw } from "./format";

const app = document.querySelector<HTMLElement>("#app");
if (app) {
  app.textContent = `kiswatch — 준비 중입니다 (${formatKrw(0)})`;
}
