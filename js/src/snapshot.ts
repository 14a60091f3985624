/**
 * The image a saved notebook keeps of a chart widget. After a draw, and again once the user
 * stops changing the view, the charts are painted as they are on screen onto one canvas (SVG
 * rasterised with its computed styles inlined, canvases copied) on the widget's background,
 * and sent to Python as a PNG, which writes it into the output (nbtrack/widgets/saved.py).
 * So the kernel never renders a chart, and the saved image is what the user last saw.
 */

import type { AnyModel } from "@anywidget/types";

/** The attribute of elements a snapshot leaves out, and whose changes do not call for one. */
export const TRANSIENT = "data-nbt-transient";

/** Charts drawn side by side in a row; rows stacked, as the widget lays them out. */
export type Rows = Element[][];

/** Quiet time after a change before the image is taken (a drag or a slider sends many). */
const QUIET_MS = 500;
/** A view that keeps changing (a live run) is still taken this often. */
const MAX_WAIT_MS = 3000;
const GAP = 8;
/** What an SVG element needs to look the same outside the page's style sheets. */
const STYLE_PROPS = [
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-width",
  "stroke-opacity",
  "stroke-dasharray",
  "opacity",
  "visibility",
  "display",
  "font-family",
  "font-size",
  "font-weight",
  "text-anchor",
  "dominant-baseline",
];

interface Placed {
  el: Element;
  x: number;
  y: number;
}

function shown(el: Element): boolean {
  const box = el.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && el.closest("[hidden]") === null;
}

/** Where each element goes in the image, and the image's size (CSS pixels). */
function placeRows(rows: Rows, size: (el: Element) => { width: number; height: number }) {
  const placed: Placed[] = [];
  let [width, height] = [0, 0];
  for (const row of rows) {
    let [x, tallest] = [0, 0];
    for (const el of row) {
      const box = size(el);
      if (box.width <= 0 || box.height <= 0) continue;
      placed.push({ el, x, y: height });
      x += box.width + GAP;
      tallest = Math.max(tallest, box.height);
    }
    if (tallest > 0) {
      width = Math.max(width, x - GAP);
      height += tallest + GAP;
    }
  }
  return { placed, width: Math.ceil(width), height: Math.ceil(Math.max(0, height - GAP)) };
}

/** The size an element paints at: a scrolled box at its whole content's size. */
function paintedSize(el: Element): { width: number; height: number } {
  if (!shown(el)) return { width: 0, height: 0 };
  const box = el.getBoundingClientRect();
  return el instanceof HTMLElement
    ? { width: Math.max(box.width, el.scrollWidth), height: Math.max(box.height, el.scrollHeight) }
    : { width: box.width, height: box.height };
}

/** The first opaque background colour from `el` up, or white. */
function backgroundOf(el: Element): string {
  for (let node: Element | null = el; node; node = node.parentElement) {
    const color = getComputedStyle(node).backgroundColor;
    if (color && color !== "transparent" && !/rgba\(.*,\s*0\)$/.test(color)) return color;
  }
  return "#ffffff";
}

function inlineStyles(source: SVGSVGElement, width: number, height: number): SVGSVGElement {
  const clone = source.cloneNode(true) as SVGSVGElement;
  const from = [source, ...Array.from(source.querySelectorAll("*"))];
  const to = [clone, ...Array.from(clone.querySelectorAll("*"))];
  from.forEach((el, i) => {
    const style = getComputedStyle(el);
    to[i].setAttribute("style", STYLE_PROPS.map((p) => `${p}:${style.getPropertyValue(p)}`).join(";"));
  });
  for (const left of Array.from(clone.querySelectorAll(`title, [${TRANSIENT}]`))) left.remove();
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", String(width));
  clone.setAttribute("height", String(height));
  return clone;
}

async function svgImage(svg: SVGSVGElement, width: number, height: number): Promise<HTMLImageElement> {
  const text = new XMLSerializer().serializeToString(inlineStyles(svg, width, height));
  const image = new Image(width, height);
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  await image.decode();
  return image;
}

/** Paint `el` (a canvas, an SVG, or a box holding them) with its top left at (x, y). */
async function paint(ctx: CanvasRenderingContext2D, el: Element, x: number, y: number): Promise<void> {
  const box = el.getBoundingClientRect();
  if (el instanceof HTMLCanvasElement) {
    ctx.drawImage(el, x, y, box.width, box.height);
  } else if (el instanceof SVGSVGElement) {
    ctx.drawImage(await svgImage(el, box.width, box.height), x, y, box.width, box.height);
  } else {
    // A box: its charts where they sit in it (scrolled out of view too).
    const [dx, dy] = el instanceof HTMLElement ? [el.scrollLeft, el.scrollTop] : [0, 0];
    const parts = Array.from(el.querySelectorAll("canvas, svg")).filter(
      (part) => part.parentElement?.closest("svg") === null && shown(part),
    );
    for (const part of parts) {
      const at = part.getBoundingClientRect();
      // (whole pixels: a page at a fractional scroll position draws its parts there)
      await paint(ctx, part, x + Math.round(at.left - box.left + dx), y + Math.round(at.top - box.top + dy));
    }
  }
}

/** The rows as one PNG, with its size in CSS pixels; null when nothing is shown. */
export async function capture(
  rows: Rows,
  background: Element,
): Promise<{ png: ArrayBuffer; width: number; height: number } | null> {
  const { placed, width, height } = placeRows(rows, paintedSize);
  if (placed.length === 0 || width === 0 || height === 0) return null;
  const scale = Math.min(2, Math.max(1, window.devicePixelRatio || 1));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.scale(scale, scale);
  ctx.fillStyle = backgroundOf(background);
  ctx.fillRect(0, 0, width, height);
  for (const { el, x, y } of placed) await paint(ctx, el, x, y);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  return blob ? { png: await blob.arrayBuffer(), width, height } : null;
}

export interface Snapshots {
  /** Something was drawn: take the image once the view has been quiet a moment. */
  schedule: () => void;
  dispose: () => void;
}

/**
 * Send the model an image of `rows()` after every change that `schedule()` reports (and every
 * change in `watched`'s elements), debounced; a view that keeps changing is still taken every
 * few seconds.
 */
export function snapshots(model: AnyModel, root: Element, rows: () => Rows, watched: Element[] = []): Snapshots {
  let timer: number | undefined;
  let since: number | null = null;
  let running = false;
  let again = false;
  let disposed = false;

  const take = async (): Promise<void> => {
    timer = undefined;
    since = null;
    if (disposed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const image = await capture(rows(), root);
      if (image && !disposed) {
        model.send({ type: "snapshot", width: image.width, height: image.height }, undefined, [image.png]);
      }
    } catch (error) {
      console.warn(`nbtrack: no image of this chart for the saved notebook (${String(error)})`);
    } finally {
      running = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };

  const schedule = (): void => {
    if (disposed || !root.isConnected) return;
    const now = performance.now();
    since ??= now;
    window.clearTimeout(timer);
    // (not in the middle of a drag: the image is taken once the pointer lets go)
    const wait = !pressed && now - since >= MAX_WAIT_MS ? 0 : QUIET_MS;
    timer = window.setTimeout(() => (pressed ? schedule() : void take()), wait);
  };

  let pressed = false;
  const press = (): void => {
    pressed = true;
  };
  const release = (): void => {
    if (pressed) {
      pressed = false;
      schedule();
    }
  };
  root.addEventListener("pointerdown", press);
  window.addEventListener("pointerup", release);
  window.addEventListener("pointercancel", release);
  const transient = (node: Node): boolean =>
    (node instanceof Element ? node : node.parentElement)?.closest(`[${TRANSIENT}]`) != null;
  const observer = new MutationObserver((records) => {
    if (records.some((record) => !transient(record.target))) schedule();
  });
  for (const el of watched) observer.observe(el, { childList: true, subtree: true, attributes: true });
  return {
    schedule,
    dispose: () => {
      disposed = true;
      window.clearTimeout(timer);
      observer.disconnect();
      root.removeEventListener("pointerdown", press);
      window.removeEventListener("pointerup", release);
      window.removeEventListener("pointercancel", release);
    },
  };
}
