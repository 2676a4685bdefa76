// The one way pages build elements: el(tag, attributes, ...children), where a string child becomes
// a text node (Element.append), so no user text is ever parsed as HTML.

export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== false) element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.filter((c) => c !== undefined && c !== null && c !== ""));
  return element;
}

/** A message in a page's status line (role="status" in the HTML, so screen readers hear it). */
export function say(status, message, kind = "info") {
  status.textContent = message;
  status.dataset.kind = kind;
}

/** el() for SVG: the element in the SVG namespace; attributes as given (numbers as strings). */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== false) element.setAttribute(name, String(value));
  }
  element.append(...children.filter((c) => c !== undefined && c !== null && c !== ""));
  return element;
}
