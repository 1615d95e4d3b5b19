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

// @mentions: typing "@" and part of a name in a comment box lists the project's people;
// a tap inserts "@name " (or the exact "@[name](user:id)" when two people share the name).
(function () {
  function people(box) {
    try { return JSON.parse(box.getAttribute("data-mention-people") || "[]"); } catch (e) { return []; }
  }
  function typedName(box) {
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|[\s(（，,])@([^\s@]{0,20})$/.exec(before);
    return match ? match[2] : null;
  }
  function closeList(box) {
    var next = box.nextElementSibling;
    if (next && next.classList.contains("mention-list")) next.remove();
  }
  function insert(box, person, all) {
    var typed = typedName(box) || "";
    var start = box.selectionStart - typed.length - 1;
    var twins = all.filter(function (p) { return p.name === person.name; }).length > 1;
    var text = twins ? "@[" + person.name + "](user:" + person.id + ") " : "@" + person.name + " ";
    box.value = box.value.slice(0, start) + text + box.value.slice(box.selectionStart);
    box.selectionStart = box.selectionEnd = start + text.length;
    closeList(box);
    box.focus();
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-mention-people]")) return;
    closeList(box);
    var typed = typedName(box);
    if (typed === null) return;
    var all = people(box);
    var found = all.filter(function (p) { return p.name.indexOf(typed) >= 0; }).slice(0, 6);
    if (!found.length) return;
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    found.forEach(function (person) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "@" + person.name;
      button.addEventListener("click", function () { insert(box, person, all); });
      item.appendChild(button);
      list.appendChild(item);
    });
    box.insertAdjacentElement("afterend", list);
  });
})();

// Attachments: a photo just taken (or a file just picked) goes up at once; the name is shown
// meanwhile. Without JavaScript the form's own button sends it.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches(".attach-form input[type=file]") || !input.files.length) return;
  var form = input.closest("form");
  var shown = form.querySelector(".chosen-file") || document.createElement("span");
  shown.className = "chosen-file muted";
  shown.textContent = input.files[0].name;
  input.parentNode.appendChild(shown);
  if (window.htmx && form.requestSubmit) form.requestSubmit();
});
