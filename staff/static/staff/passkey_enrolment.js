// After a passkey is registered the session counts as verified
// (django-otp-webauthn logs the new device in): go on to the recovery codes.
// The address is on the section, as the library replaces its placeholder.
document.addEventListener("otp_webauthn.register_complete", () => {
  const section = document.querySelector("[data-after-passkey]");
  window.location.assign(section.dataset.afterPasskey);
});
