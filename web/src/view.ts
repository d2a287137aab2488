// What each tab of the page is: its element, and a refresh run whenever the tab is shown.
export interface View {
  root: HTMLElement;
  refresh(): void;
}
