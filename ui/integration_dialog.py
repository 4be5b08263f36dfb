"""The manager's window on the POS link (Ctrl+I): where the API answers, the watched folder,
and the token. A new token is shown once, with a copy button; issuing one replaces the old,
which stops working at once. The till keeps only the token's hash (pos_member.integration
.tokens), so a token cannot be shown again: a lost one is replaced."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from pos_member.config import Integration as IntegrationConfig
from pos_member.crypto import KeyStore
from pos_member.integration.tokens import (
    DEFAULT_SCOPES,
    Authenticator,
    Scope,
    TokenRecord,
    issue_token,
)
from ui.host import TillHost


class IntegrationDialog(QDialog):
    def __init__(self, host: TillHost, auth: Authenticator, *,
                 keystore: Callable[[], KeyStore], port: int | None, problem: str | None,
                 config: IntegrationConfig | None, folder_problem: str | None = None) -> None:
        super().__init__(host.window())
        self.host, self.auth, self.keystore = host, auth, keystore
        self.setWindowTitle(self.tr("POS link (Ctrl+I)"))
        self.setMinimumWidth(560)
        form = QFormLayout()
        if port is not None:
            address = f"http://127.0.0.1:{port}"
        elif problem is not None:
            address = self.tr("not served: %1").replace("%1", problem)
        else:
            address = self.tr("off (integration_port = 0 in config.toml)")
        self.address = QLabel(address)
        self.address.setObjectName("address")
        form.addRow(self.tr("API address:"), self.address)
        folder = config.folder if config is not None else None
        shown = str(folder) if folder is not None else self.tr("none")
        if folder_problem is not None:
            shown = self.tr("%1 — not watched: %2").replace("%1", shown).replace(
                "%2", folder_problem)
        folder_label = QLabel(shown)
        folder_label.setObjectName("folder")
        form.addRow(self.tr("Watched folder:"), folder_label)
        self.state = QLabel()
        self.state.setObjectName("tokenState")
        form.addRow(self.tr("Token:"), self.state)
        self.scopes = QLabel()
        self.scopes.setObjectName("tokenScopes")
        form.addRow(self.tr("It may:"), self.scopes)
        self.personal = QCheckBox(self.tr("The POS may see members' full phone and name"))
        self.personal.setObjectName("personalScope")
        self.issue = QPushButton()
        self.issue.setObjectName("issueToken")
        self.issue.clicked.connect(self._issue)
        self.token = QLineEdit()
        self.token.setObjectName("token")
        self.token.setReadOnly(True)
        self.copy = QPushButton(self.tr("&Copy"))
        self.copy.setObjectName("copyToken")
        self.copy.clicked.connect(self._copy)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.copy)
        self.note = QLabel()
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.personal)
        lay.addWidget(self.issue)
        lay.addLayout(token_row)
        lay.addWidget(self.note)
        lay.addWidget(buttons)
        for w in (self.token, self.copy):
            w.setVisible(False)
        self._show_record(auth.record)

    def _show_record(self, record: TokenRecord | None) -> None:
        if record is None:
            self.state.setText(self.tr("none issued yet"))
            self.scopes.setText("—")
            self.issue.setText(self.tr("&Issue a token"))
        else:
            self.state.setText(self.tr("issued %1").replace(
                "%1", record.issued_at.replace("T", " ")[:16]))
            self.scopes.setText(", ".join(sorted(record.scopes)))
            self.issue.setText(self.tr("&Replace the token (the old one stops working)"))

    def _issue(self) -> None:
        scopes = DEFAULT_SCOPES | ({Scope.PERSONAL} if self.personal.isChecked() else set())
        ident, now, keystore = self.host.identity, self.host.uow.clock.now(), self.keystore
        self.issue.setEnabled(False)
        auth = self.auth
        self.host.ops.run(lambda: auth.reissue(  # the old token stops working now
            lambda: issue_token(keystore(), device_id=ident.device_id, now=now,
                                scopes=frozenset(scopes))),
                          self._issued, self._failed)

    def _issued(self, issued: tuple[str, TokenRecord]) -> None:
        token, record = issued
        self.issue.setEnabled(True)
        self.token.setText(token)
        self.token.setCursorPosition(0)
        for w in (self.token, self.copy):
            w.setVisible(True)
        self.note.setText(self.tr("Shown once: copy it into the POS's settings now. The till "
                                  "keeps only a fingerprint of it."))
        self._show_record(record)

    def _failed(self, error: Exception) -> None:
        self.issue.setEnabled(True)
        self.host.show_error(error)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.token.text())
        self.note.setText(self.tr("Copied. Paste it into the POS's settings."))

    def done(self, result: int) -> None:
        self.token.clear()  # never left in a widget after the dialog closes
        super().done(result)
