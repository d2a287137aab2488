// What each tab of the page is: its element, and a refresh run whenever the tab is shown.
export interface View {
  root: HTMLElement;
  /** Reloads what the tab shows; main.ts marks the panel ready when it settles. */
  refresh(): Promise<void>;
}
