/**
 * The mouse and keyboard side of zooming a curve chart: drag across the plot to zoom to that
 * range, shift-drag (or a sideways scroll) to pan, scroll to zoom around the pointer, + and -
 * to zoom, the arrow keys to pan, double-click (or 0, or Escape) to see all of it. The chart
 * shows each change at once; the range is committed (sent to Python, which answers with the
 * points inside it) once the gesture ends, or the scrolling pauses.
 */

import { h } from "./dom";
import { TRANSIENT } from "./snapshot";
import { type XRange, dragRange, keyRange, panBy, wheelRange, withinHome } from "./zoom";

/** Scrolling commits its range once it pauses this long (one query, not one per notch). */
const COMMIT_AFTER_MS = 250;
/** Pixels per line, for wheels that scroll by lines. */
const LINE_PX = 16;

/** Where the plot is on screen and what it shows. */
export interface PlotFrame {
  /** The plot area (inside the axes), in client coordinates. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** The x range drawn, and the one drawn when not zoomed (null before any). */
  shown: XRange;
  home: XRange | null;
}

export interface ZoomTarget {
  /** The plot's frame, or null before the chart is drawn. */
  frame(): PlotFrame | null;
  /** Draw `range` now (null: all of it). */
  show(range: XRange | null): void;
}

/**
 * Zoom `target` with gestures on `el` (the chart, which gets focus for the keys); `commit` is
 * told each range the user settles on. Returns what removes the listeners.
 */
export function zoomGestures(el: HTMLElement, target: ZoomTarget, commit: (range: XRange | null) => void): () => void {
  const brush = h("div", { class: "nbt-zoom-brush", hidden: true, [TRANSIENT]: "true" });
  el.append(brush);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let drag: { start: number; pan: boolean; shown: XRange; frame: PlotFrame; moved: boolean } | null = null;
  let dragged = false;

  const settle = (range: XRange | null, later = false): void => {
    const frame = target.frame();
    const kept = range && frame ? withinHome(range, frame.home) : range;
    target.show(kept);
    clearTimeout(timer);
    if (later) timer = setTimeout(() => commit(kept), COMMIT_AFTER_MS);
    else commit(kept);
  };
  /** The pointer's x in the plot, or null when it is not over the plot. */
  const inPlot = (event: MouseEvent): { px: number; frame: PlotFrame } | null => {
    const frame = target.frame();
    if (!frame) return null;
    const [px, py] = [event.clientX - frame.left, event.clientY - frame.top];
    return px >= 0 && px <= frame.width && py >= 0 && py <= frame.height ? { px, frame } : null;
  };
  const showBrush = (a: number, b: number, frame: PlotFrame): void => {
    const box = el.getBoundingClientRect();
    const [left, right] = [Math.max(0, Math.min(a, b)), Math.min(frame.width, Math.max(a, b))];
    Object.assign(brush.style, {
      left: `${frame.left - box.left + left}px`,
      top: `${frame.top - box.top}px`,
      width: `${right - left}px`,
      height: `${frame.height}px`,
    });
    brush.hidden = false;
  };

  const onDown = (event: PointerEvent): void => {
    const at = event.button === 0 ? inPlot(event) : null;
    if (!at) return;
    drag = { start: at.px, pan: event.shiftKey, shown: at.frame.shown, frame: at.frame, moved: false };
    el.setPointerCapture(event.pointerId);
    event.preventDefault(); // no text selection
  };
  const onMove = (event: PointerEvent): void => {
    if (!drag) return;
    const px = event.clientX - drag.frame.left;
    drag.moved ||= Math.abs(px - drag.start) > 1;
    if (drag.pan) target.show(panBy(drag.shown, (drag.start - px) / drag.frame.width));
    else showBrush(drag.start, px, drag.frame);
  };
  const onUp = (event: PointerEvent): void => {
    if (!drag) return;
    const { start, pan, shown, frame, moved } = drag;
    drag = null;
    brush.hidden = true;
    dragged = moved;
    const px = event.clientX - frame.left;
    if (pan && moved) settle(panBy(shown, (start - px) / frame.width));
    else if (!pan) {
      const range = dragRange(shown, start, px, frame.width);
      if (range) settle(range);
    }
  };
  // A drag ends with a click on the canvas, which would clear the legend's highlight.
  const onClick = (event: MouseEvent): void => {
    if (dragged) event.stopPropagation();
    dragged = false;
  };
  const onWheel = (event: WheelEvent): void => {
    const at = inPlot(event);
    if (!at || event.ctrlKey) return; // (ctrl: the browser's own zoom)
    event.preventDefault();
    const { shown, width } = at.frame;
    const pixels = event.deltaMode === 1 ? LINE_PX : event.deltaMode === 2 ? width : 1;
    const [dx, dy] = [event.deltaX * pixels, event.deltaY * pixels];
    if (event.shiftKey || Math.abs(dx) > Math.abs(dy)) {
      settle(panBy(shown, (Math.abs(dx) > Math.abs(dy) ? dx : dy) / width), true);
    } else {
      settle(wheelRange(shown, at.px, width, dy), true);
    }
  };
  const onDoubleClick = (event: MouseEvent): void => {
    if (inPlot(event)) settle(null);
  };
  const onKey = (event: KeyboardEvent): void => {
    const frame = target.frame();
    if (!frame || event.target !== el || event.ctrlKey || event.metaKey || event.altKey) return;
    const range = keyRange(frame.shown, event.key);
    if (range === undefined) return;
    event.preventDefault();
    settle(range, true);
  };

  const listeners: Array<[string, EventListener, AddEventListenerOptions?]> = [
    ["pointerdown", onDown as EventListener],
    ["pointermove", onMove as EventListener],
    ["pointerup", onUp as EventListener],
    ["pointercancel", onUp as EventListener],
    ["click", onClick as EventListener, { capture: true }],
    ["wheel", onWheel as EventListener, { passive: false }],
    ["dblclick", onDoubleClick as EventListener],
    ["keydown", onKey as EventListener],
  ];
  for (const [type, listener, options] of listeners) el.addEventListener(type, listener, options);
  return () => {
    clearTimeout(timer);
    for (const [type, listener, options] of listeners) el.removeEventListener(type, listener, options);
    brush.remove();
  };
}
