// The operator page's fixed elements (web/public/operator/index.html): the content area and the header bar.
export const page = {
  app: document.getElementById('app') as HTMLElement,
  /** When the dashboard last refreshed. */
  updated: document.getElementById('updated') as HTMLElement,
  logout: document.getElementById('logout') as HTMLButtonElement,
};
