/**
 * The messages between the timeline panel (src/views/timelineView.ts, in the extension host) and
 * its webview script (media/timeline.ts, in the browser). The extension fetches `hwbp.timeline`
 * chunks and passes them on as they are; the webview keeps the model and draws.
 */
import type { TimelineChunk } from './timelineState';

export type ToWebview =
  /** The panel now follows this session (null: none); the webview forgets what it had. */
  | { type: 'session'; name: string | null }
  /** The next chunk of the followed session (asked with `since` = the previous chunk's seq). */
  | { type: 'chunk'; chunk: TimelineChunk }
  /** Whether the program runs, whether the session has ended, and why no data can come. */
  | { type: 'status'; running: boolean; ended: boolean; error: string | null };

export type FromWebview =
  /** The script has loaded (again): send everything. */
  | { type: 'ready' }
  /** A hit or missed access was clicked: show its source line. */
  | { type: 'reveal'; line: number }
  /** A button of the panel's toolbar. */
  | { type: 'exportTrace' };
