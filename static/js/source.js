// Copies ?source= (or ?utm_source=) from the page's address into the sign
// form's hidden "source" field, so the signature records where the signer came
// from. The page itself is the same for everyone (it is cached), so it cannot
// carry the value; without script, the server reads the Referer instead
// (petitions/sources.py).
(function () {
  var params = new URLSearchParams(window.location.search);
  var value = params.get("source") || params.get("utm_source");
  if (!value) return;
  var fields = document.querySelectorAll('form.sign-form input[name="source"]');
  for (var i = 0; i < fields.length; i++) {
    if (!fields[i].value) fields[i].value = value.slice(0, 200);
  }
})();
