// A refused htmx request (403, 404, 5xx) is not swapped into the page: say why, in place,
// just above the form or button that sent it, instead of leaving the page as it was.
document.addEventListener("htmx:responseError", function (event) {
  var source = event.detail.elt;
  var anchor = (source.closest && source.closest("form")) || source;
  var page = new DOMParser().parseFromString(event.detail.xhr.responseText || "", "text/html");
  var said = page.querySelector(".refusal") || page.querySelector("main p");
  var text = said ? said.textContent.trim() : String(event.detail.xhr.status);
  var previous = anchor.previousElementSibling;
  if (previous && previous.classList.contains("htmx-refusal")) {
    previous.remove();
  }
  var note = document.createElement("p");
  note.className = "form-error htmx-refusal";
  note.setAttribute("role", "alert");
  note.textContent = text;
  anchor.parentNode.insertBefore(note, anchor);
  note.scrollIntoView({ block: "nearest" });
});
