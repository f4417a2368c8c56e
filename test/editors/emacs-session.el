;;; emacs-session.el --- drives one dap-mode session through editors/emacs/bluepill-lens.el  -*- lexical-binding: t; -*-

;; Run by test/editors/emacs.test.ts as `emacs --batch -l bluepill-lens.el -l emacs-session.el`.
;; Environment: BLUEPILL_CLI (dist/cli.js), BLUEPILL_DLV, BLUEPILL_PROGRAM (a Go executable to
;; launch; without it, attach locally: the picker reads its choice from standard input),
;; BLUEPILL_SOURCE and BLUEPILL_LINE (where to break). Prints one line per milestone, as
;; Emacs sees it: "session created", "stopped NAME LINE", "terminated", "adapter exited STATUS";
;; exits 0 when the adapter process has ended, 1 with "timeout: ..." otherwise.

;;; Code:

(require 'bluepill-lens)

(defvar bluepill-test--done nil "Set when the session is over or failed.")
(defvar bluepill-test--session nil)

(defun bluepill-test--say (fmt &rest args)
  (princ (concat (apply #'format fmt args) "\n")))

(defun bluepill-test--on-frame (session)
  (let ((frame (dap--debug-session-active-frame session)))
    (when frame
      (bluepill-test--say "stopped %s %s" (gethash "name" frame) (gethash "line" frame))
      (remove-hook 'dap-stack-frame-changed-hook #'bluepill-test--on-frame)
      (dap-disconnect session))))

(defun bluepill-test--on-terminated (_session)
  ;; dap-mode deletes the adapter's process itself on "terminated".
  (bluepill-test--say "terminated"))

(defun bluepill-test--wait (what seconds predicate)
  "Run Emacs's event loop until PREDICATE holds; after SECONDS, fail saying WHAT."
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (unless (funcall predicate)
      (bluepill-test--say "timeout: %s" what)
      (kill-emacs 1))))

(let ((source (getenv "BLUEPILL_SOURCE"))
      (line (string-to-number (getenv "BLUEPILL_LINE"))))
  (setq bluepill-lens-adapter-command (list "node" (getenv "BLUEPILL_CLI") "adapter")
        bluepill-lens-dlv-path (getenv "BLUEPILL_DLV")
        dap-breakpoints-file (expand-file-name "dap-breakpoints" "~"))
  (with-current-buffer (find-file-noselect source)
    (goto-char (point-min))
    (forward-line (1- line))
    (dap-breakpoint-add))
  (add-hook 'dap-stack-frame-changed-hook #'bluepill-test--on-frame)
  (add-hook 'dap-terminated-hook #'bluepill-test--on-terminated)
  (add-hook 'dap-session-created-hook (lambda (s) (setq bluepill-test--session s)
                                        (bluepill-test--say "session created")))
  (dap-debug (if (getenv "BLUEPILL_PROGRAM")
                 (list :type "bluepill" :request "launch" :mode "exec" :name "bluepill test"
                       :program (getenv "BLUEPILL_PROGRAM"))
               ;; The registered sandbox template, as M-x dap-debug would pick it: the provider asks for the pid.
               (copy-tree (cdr (assoc "bluepill: attach to runsc sandbox" dap-debug-template-configurations)))))
  (bluepill-test--wait "no session" 10 (lambda () bluepill-test--session))
  (let ((proc (dap--debug-session-proc bluepill-test--session)))
    (bluepill-test--wait "the adapter did not exit" 60 (lambda () (not (process-live-p proc))))
    (bluepill-test--say "adapter exited %s" (process-exit-status proc)))
  (kill-emacs 0))

;;; emacs-session.el ends here
