() => {
  const copy = async (btn) => {
    const source = btn.parentElement && btn.parentElement.querySelector('.qa-copytext');
    if (!source) return;
    const text = source.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = document.createElement('textarea');
      area.value = text; area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      try { document.execCommand('copy'); } finally { area.remove(); }
    }
    btn.textContent = 'Copied ✓';
    setTimeout(() => { btn.textContent = 'Copy with citation'; }, 1600);
  };
  document.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const btn = target.closest('.qa-copy');
    if (btn) { event.preventDefault(); event.stopPropagation(); copy(btn); return; }
    const helped = target.closest('.qa-helped');
    if (helped) {
      event.preventDefault(); event.stopPropagation();
      window.qaHelped = helped.getAttribute('value') || '';
      const send = document.querySelector('#qa-helped-send');
      if (send) send.click();
      helped.textContent = 'Saved ✓';
      return;
    }
    const ref = target.closest('.qa-ref a');
    if (ref) {
      const note = document.getElementById(ref.getAttribute('href').slice(1));
      if (note) {
        event.preventDefault();
        const details = note.closest('details');
        if (details) details.open = true;
        note.scrollIntoView({behavior: 'smooth', block: 'center'});
        note.classList.remove('qa-flash'); void note.offsetWidth; note.classList.add('qa-flash');
      }
    }
  }, true);
  // On a phone the sidebar would cover the chat: start with it closed.
  let tries = 0;
  const closeOnPhone = () => {
    const toggle = document.querySelector('#qa-sidebar.open .toggle-button');
    if (toggle && window.innerWidth < 768) { toggle.click(); return; }
    if (!toggle && tries++ < 40) setTimeout(closeOnPhone, 100);
  };
  closeOnPhone();
  // A new answer starts with its best passage: bring the question to the top, not the last passage.
  let lastQuestion = null;
  new MutationObserver(() => {
    const questions = document.querySelectorAll('#qa-chat .qa-question');
    const question = questions[questions.length - 1];
    if (!question || question === lastQuestion) return;
    lastQuestion = question;
    const row = question.closest('.message-row') || question;
    setTimeout(() => row.scrollIntoView({behavior: 'smooth', block: 'start'}), 50);
  }).observe(document.body, {childList: true, subtree: true});
}
