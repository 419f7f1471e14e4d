// Progressive sharing. The plain links in the page work without script; with
// it, a "Share" button opens the phone's own share sheet (Web Share API) where
// the browser has one, and "Copy link" puts the address on the clipboard.
// Nothing is loaded from the services themselves.
(function () {
  var boxes = document.querySelectorAll("[data-share-url]");
  Array.prototype.forEach.call(boxes, function (box) {
    var url = box.getAttribute("data-share-url");
    var text = box.getAttribute("data-share-text") || "";
    var status = box.querySelector(".share-status");
    var shareButton = box.querySelector(".share-native");
    var copyButton = box.querySelector(".share-copy");

    function say(message) {
      if (status) status.textContent = message;
    }

    if (shareButton && navigator.share) {
      shareButton.hidden = false;
      shareButton.addEventListener("click", function () {
        navigator.share({ title: text, text: text, url: url }).catch(function () {
          /* The reader closed the share sheet: nothing to do. */
        });
      });
    }
    if (copyButton) {
      copyButton.hidden = false;
      copyButton.addEventListener("click", function () {
        var done = function () { say(copyButton.getAttribute("data-copied")); };
        var field = box.querySelector("input[readonly]");
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(url).then(done, function () {
            if (field) { field.select(); }
          });
        } else if (field) {
          // Plain HTTP (development): select the address and copy the old way.
          field.select();
          try { if (document.execCommand("copy")) done(); } catch (error) { /* selected */ }
        }
      });
    }
  });
})();
