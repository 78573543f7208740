// The multi-view viewer; see the session and web app work in docs/.
const root = document.getElementById('app');
if (root) root.textContent = 'Mirror viewer';
