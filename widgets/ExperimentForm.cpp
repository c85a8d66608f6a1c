#include "ExperimentForm.h"

#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QResizeEvent>
#include <QScrollArea>
#include <QScrollBar>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <algorithm>

namespace tkd {

ExperimentForm::ExperimentForm(QWidget *parent)
    : QWidget(parent)
    , m_scroll(new QScrollArea)
    , m_help(new QLabel)
{
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    m_help->setWordWrap(true);
    m_help->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_help->setMinimumHeight(m_help->fontMetrics().lineSpacing() * 2 + 6);
    m_help->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_help->setStyleSheet(QStringLiteral("QLabel { color: palette(dark); padding: 3px; }"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_scroll, 1);
    layout->addWidget(m_help);
}

QWidget *ExperimentForm::makeEditor(Row &row)
{
    const FormField &f = row.field;
    auto emitEdited = [this, key = f.key] { Q_EMIT edited(key); };
    switch (f.kind) {
    case FormField::Kind::Choice: {
        auto *box = new QComboBox;
        box->addItems(f.choices);
        box->setFocusPolicy(Qt::StrongFocus); // the wheel alone never takes focus (eventFilter)
        connect(box, &QComboBox::activated, this, emitEdited);
        row.editor = box;
        return box;
    }
    case FormField::Kind::Bool: {
        auto *box = new QCheckBox;
        connect(box, &QCheckBox::clicked, this, emitEdited);
        row.editor = box;
        return box;
    }
    case FormField::Kind::ChoiceList: {
        auto *w = new QWidget;
        auto *grid = new QGridLayout(w);
        grid->setContentsMargins(0, 0, 0, 0);
        grid->setHorizontalSpacing(12);
        grid->setVerticalSpacing(2);
        const int columns = f.choices.size() > 5 ? 3 : int(f.choices.size());
        for (int i = 0; i < f.choices.size(); ++i) {
            auto *check = new QCheckBox(f.choices[i]);
            connect(check, &QCheckBox::clicked, this, emitEdited);
            check->installEventFilter(this);
            m_editorKeys.insert(check, f.key);
            grid->addWidget(check, i / std::max(columns, 1), i % std::max(columns, 1));
            row.checks.append(check);
        }
        row.editor = w;
        return w;
    }
    default:
        break;
    }

    auto *edit = new QLineEdit;
    edit->setClearButtonEnabled(f.kind == FormField::Kind::Text || f.kind == FormField::Kind::List);
    if (!f.rangeText.isEmpty())
        edit->setPlaceholderText(f.rangeText);
    else if (f.kind == FormField::Kind::List)
        edit->setPlaceholderText(tr("comma-separated"));
    connect(edit, &QLineEdit::textEdited, this, emitEdited);
    row.editor = edit;
    if (f.kind != FormField::Kind::Folder && f.kind != FormField::Kind::File) {
        if (f.kind == FormField::Kind::Number || f.kind == FormField::Kind::Integer)
            edit->setMaximumWidth(180);
        return edit;
    }
    // Paths: the line edit and a picker button.
    auto *w = new QWidget;
    auto *h = new QHBoxLayout(w);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(4);
    auto *pick = new QToolButton;
    pick->setIcon(style()->standardIcon(
        f.kind == FormField::Kind::Folder ? QStyle::SP_DirOpenIcon : QStyle::SP_FileDialogStart));
    pick->setToolTip(
        f.kind == FormField::Kind::Folder ? tr("Choose a folder") : tr("Choose a file"));
    h->addWidget(edit, 1);
    h->addWidget(pick);
    connect(pick, &QToolButton::clicked, this, [this, edit, f] {
        const QString start = edit->text();
        const QString chosen = f.kind == FormField::Kind::Folder
            ? QFileDialog::getExistingDirectory(this, f.label, start)
            : QFileDialog::getOpenFileName(this, f.label, start, f.fileFilter);
        if (chosen.isEmpty())
            return;
        edit->setText(chosen);
        Q_EMIT edited(f.key);
    });
    return w;
}

void ExperimentForm::setFields(const QVector<FormField> &fields, const QStringList &leftSections)
{
    m_fields = fields;
    m_rows.clear();
    m_editorKeys.clear();

    auto *content = new QWidget;
    auto *columns = new QHBoxLayout(content);
    m_left = new QVBoxLayout;
    m_right = new QVBoxLayout;
    columns->addLayout(m_left, 1);
    columns->addLayout(m_right, 1);
    m_leftBoxes.clear();
    m_rightBoxes.clear();
    m_columnCount = 0;

    QHash<QString, QFormLayout *> sections;
    QStringList sectionOrder;
    for (const FormField &f : fields) {
        QFormLayout *form = sections.value(f.section);
        if (!form) {
            auto *box = new QGroupBox(f.section);
            form = new QFormLayout(box);
            form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
            form->setRowWrapPolicy(QFormLayout::DontWrapRows);
            form->setLabelAlignment(Qt::AlignRight | Qt::AlignTop);
            form->setVerticalSpacing(5);
            sections.insert(f.section, form);
            (leftSections.contains(f.section) ? m_leftBoxes : m_rightBoxes).append(box);
        }
        Row row;
        row.field = f;
        QWidget *editorWidget = makeEditor(row);
        row.container = new QWidget;
        auto *v = new QVBoxLayout(row.container);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(1);
        v->addWidget(editorWidget);
        row.message = new QLabel;
        row.message->setWordWrap(true);
        row.message->setObjectName(QStringLiteral("fieldMessage"));
        row.message->setStyleSheet(QStringLiteral("QLabel { color: #c0392b; }"));
        row.message->setVisible(false);
        v->addWidget(row.message);
        auto *label = new QLabel(f.label + QLatin1Char(':'));
        label->setToolTip(f.key);
        label->setContentsMargins(0, 3, 0, 0); // line up with the editor's text, not its frame
        row.labelWidget = label;
        const QString tip
            = QStringLiteral("<b>%1</b><br>%2").arg(f.key.toHtmlEscaped(), f.help.toHtmlEscaped());
        editorWidget->setToolTip(tip);
        if (row.editor != editorWidget)
            row.editor->setToolTip(tip);
        if (row.checks.isEmpty()) {
            row.editor->installEventFilter(this);
            m_editorKeys.insert(row.editor, f.key);
        }
        form->addRow(label, row.container);
        m_rows.insert(f.key, row);
    }
    delete m_scroll->takeWidget();
    m_scroll->setWidget(content);
    arrangeColumns(true);
    m_help->setText(
        tr("Hover or focus a field for what it means. Problems show in red under the field."));
}

void ExperimentForm::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    arrangeColumns();
}

void ExperimentForm::arrangeColumns(bool force)
{
    if (!m_left)
        return;
    const int wanted = width() >= 900 ? 2 : 1;
    if (wanted == m_columnCount && !force)
        return;
    m_columnCount = wanted;
    // Re-seat the section boxes (the widgets stay; only the layout items go), stretch at the end.
    for (QVBoxLayout *l : { m_left, m_right })
        while (QLayoutItem *item = l->takeAt(0))
            delete item;
    for (QWidget *w : m_leftBoxes)
        m_left->addWidget(w);
    for (QWidget *w : m_rightBoxes)
        (wanted == 2 ? m_right : m_left)->addWidget(w);
    m_left->addStretch(1);
    m_right->addStretch(1);
}

bool ExperimentForm::eventFilter(QObject *watched, QEvent *event)
{
    // The wheel over a drop-down the user has not clicked scrolls the form, as over any other
    // part of it, instead of silently changing the value under the pointer.
    if (event->type() == QEvent::Wheel) {
        auto *w = qobject_cast<QWidget *>(watched);
        if (w && !w->hasFocus()
            && (qobject_cast<QComboBox *>(w) || qobject_cast<QAbstractSpinBox *>(w))) {
            QCoreApplication::sendEvent(m_scroll->verticalScrollBar(), event);
            return true;
        }
    }
    if (event->type() == QEvent::FocusIn) {
        auto it = m_editorKeys.constFind(watched);
        if (it != m_editorKeys.cend())
            showHelp(m_rows.value(*it));
    }
    return QWidget::eventFilter(watched, event);
}

void ExperimentForm::showHelp(const Row &row)
{
    QString text = QStringLiteral("<b>%1</b> &mdash; %2")
                       .arg(row.field.key.toHtmlEscaped(), row.field.help.toHtmlEscaped());
    if (!row.field.rangeText.isEmpty())
        text += QStringLiteral(" <i>(%1)</i>").arg(row.field.rangeText.toHtmlEscaped());
    m_help->setText(text);
}

void ExperimentForm::setValue(const QString &key, const QString &text)
{
    auto it = m_rows.find(key);
    if (it == m_rows.end())
        return;
    Row &row = *it;
    const QSignalBlocker block(row.editor);
    if (auto *edit = qobject_cast<QLineEdit *>(row.editor)) {
        edit->setText(text);
        edit->setCursorPosition(0);
    } else if (auto *box = qobject_cast<QComboBox *>(row.editor)) {
        int i = box->findText(text);
        if (i < 0) { // a value the schema does not list: show it, so the problem can be pointed at
            box->addItem(text);
            i = box->count() - 1;
        }
        box->setCurrentIndex(i);
    } else if (auto *check = qobject_cast<QCheckBox *>(row.editor)) {
        check->setChecked(text.trimmed().compare(QLatin1String("true"), Qt::CaseInsensitive) == 0);
    } else if (!row.checks.isEmpty()) {
        QStringList wanted;
        for (const QString &s : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
            wanted.append(s.trimmed());
        for (QCheckBox *c : row.checks)
            c->setChecked(wanted.contains(c->text()));
    }
}

QString ExperimentForm::value(const QString &key) const
{
    auto it = m_rows.constFind(key);
    if (it == m_rows.cend())
        return {};
    const Row &row = *it;
    if (auto *edit = qobject_cast<QLineEdit *>(row.editor))
        return edit->text();
    if (auto *box = qobject_cast<QComboBox *>(row.editor))
        return box->currentText();
    if (auto *check = qobject_cast<QCheckBox *>(row.editor))
        return check->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
    QStringList on;
    for (QCheckBox *c : row.checks)
        if (c->isChecked())
            on.append(c->text());
    return on.join(QStringLiteral(", "));
}

QMap<QString, QString> ExperimentForm::values() const
{
    QMap<QString, QString> out;
    for (const FormField &f : m_fields)
        out.insert(f.key, value(f.key));
    return out;
}

void ExperimentForm::setValues(const QMap<QString, QString> &values)
{
    for (auto it = values.cbegin(); it != values.cend(); ++it)
        setValue(it.key(), it.value());
}

QStringList ExperimentForm::setMessages(const QMap<QString, QString> &messages)
{
    QStringList unmatched;
    QHash<QString, QStringList> perField;
    for (auto it = messages.cbegin(); it != messages.cend(); ++it) {
        // "kd.lambdas[2]" belongs to kd.lambdas; a deeper unknown key to its nearest field.
        QString key = it.key();
        const int bracket = key.indexOf(QLatin1Char('['));
        if (bracket > 0)
            key.truncate(bracket);
        while (!m_rows.contains(key) && key.contains(QLatin1Char('.')))
            key.truncate(key.lastIndexOf(QLatin1Char('.')));
        if (m_rows.contains(key))
            perField[key].append(
                it.key() == key ? it.value() : it.key() + QStringLiteral(": ") + it.value());
        else
            unmatched.append(
                it.key().isEmpty() ? it.value() : it.key() + QStringLiteral(": ") + it.value());
    }
    for (auto it = m_rows.begin(); it != m_rows.end(); ++it) {
        const QStringList msgs = perField.value(it.key());
        it->message->setText(msgs.join(QLatin1Char('\n')));
        it->message->setVisible(!msgs.isEmpty());
        // The editor's frame turns red too, so a long form shows where to look at a glance.
        QWidget *target = it->checks.isEmpty() ? it->editor : nullptr;
        if (target && (qobject_cast<QLineEdit *>(target) || qobject_cast<QComboBox *>(target)))
            target->setStyleSheet(
                msgs.isEmpty() ? QString() : QStringLiteral("border: 1px solid #c0392b;"));
    }
    return unmatched;
}

QString ExperimentForm::message(const QString &key) const
{
    auto it = m_rows.constFind(key);
    return it == m_rows.cend() ? QString() : it->message->text();
}

bool ExperimentForm::messageVisible(const QString &key) const
{
    auto it = m_rows.constFind(key);
    return it != m_rows.cend() && !it->message->isHidden();
}

void ExperimentForm::setFieldEnabled(const QString &key, bool enabled)
{
    auto it = m_rows.constFind(key);
    if (it == m_rows.cend())
        return;
    it->container->setEnabled(enabled);
    it->labelWidget->setEnabled(enabled);
}

QWidget *ExperimentForm::editor(const QString &key) const
{
    auto it = m_rows.constFind(key);
    return it == m_rows.cend() ? nullptr : it->editor;
}

} // namespace tkd
