// After a passkey is registered the session counts as verified
// (django-otp-webauthn logs the new device in): go on to the recovery codes.
const placeholder = document.getElementById("passkey-registration-placeholder");
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.assign(placeholder.dataset.next);
});
