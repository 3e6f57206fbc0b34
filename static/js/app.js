// Small progressive enhancements; every page works without this file.
document.addEventListener("click", function (event) {
  var summary = event.target.closest("details.dropdown");
  document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
    if (d !== summary) { d.removeAttribute("open"); }
  });
});
